// The public face of @armature/core.
export { definePlugin, Phase, PLUGIN_NAME } from './plugin.ts'
export type {
  PluginApis,
  PluginOperations,
  OperationName,
  PluginContext,
  PluginDefinition,
  PluginHttp,
  PluginHealth,
  HealthStatus,
  HttpRouteOptions,
  StopOptions,
} from './plugin.ts'
export type { ConfigShape, ConfigValue, ResolvedConfig, OptionSpec } from './config-shape.ts'
export { option } from './options.ts'
export type { PluginMetrics } from './metrics.ts'
export type { Tracer, Span } from '@opentelemetry/api'
export { ArmatureError, ConfigError, HttpError, PluginError } from './errors.ts'
export type { HttpErrorOptions } from './errors.ts'
export { readBody, readJson, DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_JSON_DEPTH } from './http/body.ts'
export type { BodyReader, JsonReader, ReadBodyOptions, ReadJsonOptions } from './http/body.ts'
export { bearerToken, checkBearer, requireBearer } from './http/bearer.ts'
export type { BearerCheck, RequireBearerOptions } from './http/bearer.ts'
export { redactUrl } from './redact.ts'
export { Kernel } from './kernel.ts'
export { startKernel } from './start.ts'
export type { KernelOptions, ReloadResult, StopPlan } from './kernel.ts'
export type { KernelConfig, KernelOverrides } from './config.ts'
export type { StopReport } from './shutdown.ts'
export * as grpc from '@grpc/grpc-js'
export type { WsHandler } from './plugin.ts'
export { StreamClosedError } from './servers/stream-writer.ts'
export type { PluginGrpc, PluginWs } from './plugin.ts'
export { devCertificate, type DevCertificate } from './tls.ts'
export { QueueError, MalformedMessageError, MAX_RETRY_DELAY_MS, MAX_PREFETCH, ATTEMPT_HEADER, ERROR_HEADER, ORIGIN_HEADER } from './queue.ts'
export type {
  PluginQueue,
  PluginAmqp,
  QueueMessage,
  MessageHandler,
  ConsumeOptions,
  ResolvedConsumeOptions,
  PublishOptions,
  Consumer,
  QueueBackend,
  QueueBackendDescription,
} from './queue.ts'
// For the authors of a queue backend: the port's message encoding, option checks and failure policy.
export { encodeBody, queueMessage, type DeliveredFields } from './queue/message.ts'
export { resolveConsumeOptions, type ConsumeDefaults } from './queue/consume-options.ts'
export { afterFailure, retryDelay, describeFailure, type FailureOutcome } from './queue/failure-policy.ts'
