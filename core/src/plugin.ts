// The plugin contract: what a plugin declares and the context it receives.
import type { Hono, MiddlewareHandler } from 'hono'
import type { AddressInfo, Socket } from 'node:net'
import type { BodyReader, JsonReader } from './http/body.ts'
import type { Logger } from 'pino'
import type { Tracer } from '@opentelemetry/api'
import type { ConfigShape, ResolvedConfig } from './config-shape.ts'
import type { PluginMetrics } from './metrics.ts'
import type { GrpcObject, ServerDuplexStream, ServerWritableStream, ServiceDefinition } from '@grpc/grpc-js'
import type { WebSocket } from 'ws'
import type { IncomingMessage } from 'node:http'
import type { PluginAmqp, PluginQueue } from './queue.ts'

/** Named shutdown phases; any number is allowed, lower stops first. */
export const Phase = {
  Ready: 0,
  Ingress: 10,
  Work: 20,
  Flush: 30,
  Egress: 40,
  Final: 50,
} as const

export interface StopOptions {
  /** When this entry runs; entries of one phase run in parallel. Default Phase.Flush. */
  phase?: number
  /** How long the entry may take before it is abandoned (and forced when it can be). Default 5000. */
  timeoutMs?: number
  /** Called when the entry overruns its timeout or the global deadline. */
  force?: () => void
}

export interface HttpRouteOptions {
  /** Mount point; defaults to `/<plugin name>`. Two plugins may not claim one base. */
  base?: string
}

export interface PluginHttp {
  /** Mounts a Hono app under the plugin's base path. */
  route(app: Hono<any, any, any>, options?: HttpRouteOptions): void
  /**
   * Runs `middleware` before the routes of any plugin that match `pattern` (a Hono path pattern,
   * `/shortener/*`), without that plugin's code changing. Lower `order` runs first (default 0).
   * Either plugin may reload on its own: the chain follows the current generations.
   */
  intercept(pattern: string, middleware: MiddlewareHandler<any>, options?: { order?: number }): void
  /** The request body parsed as JSON, with HTTP_MAX_BODY_BYTES and HTTP_MAX_JSON_DEPTH as the default limits; throws HttpError (413, 415, 400). */
  readJson: JsonReader
  /** The request body as bytes, at most HTTP_MAX_BODY_BYTES unless `maxBytes` says otherwise; throws HttpError (413, 400). */
  readBody: BodyReader
}

export interface PluginGrpc {
  /** Loads .proto files from the plugin's `proto/` folder; index the result for service definitions. */
  load(file: string | string[]): GrpcObject
  /** Serves a service on the kernel's gRPC port(s); handlers may return promises (a rejection answers INTERNAL). */
  service(definition: ServiceDefinition, implementation: Record<string, (...args: any[]) => unknown>): void
  /**
   * Writes one message to a server-streaming or bidi call, respecting backpressure: resolves when
   * the stream can take more; rejects with StreamClosedError once the call is cancelled, ended or
   * over GRPC_MAX_BUFFERED_BYTES (a handler that lets it propagate ends quietly).
   */
  write(call: ServerWritableStream<any, any> | ServerDuplexStream<any, any>, message: unknown): Promise<void>
}

/** Called for each accepted WebSocket; a returned promise that rejects closes the socket with 1011. */
export type WsHandler = (socket: WebSocket, request: IncomingMessage) => void | Promise<void>

export interface PluginWs {
  /** Accepts WebSocket upgrades at `<base><path>` (base defaults to `/<plugin name>`). */
  route(path: string, onConnection: WsHandler, options?: { base?: string }): void
  /**
   * Sends one message, respecting backpressure: resolves when the socket can take more; rejects
   * with StreamClosedError once it is closed or closing (for one over WS_MAX_BUFFERED_BYTES, 1008).
   */
  send(socket: WebSocket, data: string | Buffer | ArrayBuffer | Buffer[]): Promise<void>
}

/** A dependency's state as the plugin sees it; `reason` says what is wrong when not ok. */
export interface HealthStatus {
  ok: boolean
  reason?: string
}

export interface PluginHealth {
  /**
   * Reports a dependency's health (`'database'`, `'redis'`, ...). While any reported component
   * is not ok, `/readyz` answers 503 naming it; each change is logged once.
   */
  report(component: string, status: HealthStatus): void
}

/** Kernel operations a plugin may call once it declares them in `operations`. */
export const OPERATIONS = ['reload', 'setLogLevel', 'plugins'] as const
export type OperationName = (typeof OPERATIONS)[number]

export interface PluginOperations {
  /** Reloads a plugin (and the plugins that use it), as `POST /_armature/plugins/<name>/reload` does. */
  reload(name: string): Promise<{ name: string; status: string; generation?: number; error?: string }>
  /** Sets the level of every logger of the kernel (trace, debug, info, warn, error, fatal, silent). */
  setLogLevel(level: string): void
  /** The plugin table `/_armature/plugins` answers. */
  plugins(): { plugins: Array<Record<string, unknown>>; rejected: unknown[] }
}

export interface PluginContext<C extends ConfigShape = ConfigShape> {
  /** The plugin's name. */
  readonly name: string
  /** Generation number: 1 on first load, +1 on every reload. */
  readonly generation: number
  /** Typed options: defaults < config file `plugins.<name>` < env `<PLUGIN>_<KEY>`. */
  readonly config: ResolvedConfig<C>
  /** Child logger bound to this plugin. */
  readonly log: Logger
  /** Aborted when this generation stops (reload, unload or shutdown). */
  readonly signal: AbortSignal
  /** Prometheus metrics named `armature_<plugin>_<name>`, kept across generations. */
  readonly metrics: PluginMetrics
  /**
   * OpenTelemetry tracer named after the plugin. Inside a request, call or message handler the
   * kernel's span is active, so spans started here are its children. Without an exporter
   * configured it is a no-op tracer (nothing is recorded).
   */
  readonly tracer: Tracer
  /** Kernel facts a plugin may need (read-only). */
  readonly kernel: {
    readonly adminToken: string | undefined
    /** A writable folder of this plugin's own: `<DATA_DIR>/<plugin>` (default `.armature/data/<plugin>`), created on demand. */
    readonly dataDir: string
    readonly dev: boolean
  }
  /** The environment the kernel was started with (process.env, or a test's own). */
  readonly env: Readonly<Record<string, string | undefined>>
  readonly http: PluginHttp
  /**
   * A TCP listener of the plugin's own (a wire protocol such as Kafka's): opened on the first
   * generation's setup and kept across reloads; each new connection goes to the generation
   * current when it arrives; stopped as the stop entry `listener:<plugin>:<name>` (default
   * phase Ingress). Resolves with the bound address.
   */
  readonly net: {
    listen(name: string, options: { port: number; host?: string; phase?: number }, onConnection: (socket: Socket) => void): Promise<AddressInfo>
  }
  /** Tells the kernel (and `/readyz`) how this plugin's dependencies are doing. */
  readonly health: PluginHealth
  /** Kernel operations named in the definition's `operations`; usable once setup has returned. */
  readonly ops: PluginOperations
  readonly grpc: PluginGrpc
  readonly ws: PluginWs
  /** Publish (after the confirm) and consume (ack, bounded retry, dead letter) on RabbitMQ or a plugin's backend (docs/queues.md). */
  readonly queue: PluginQueue
  /** @deprecated The same object as `ctx.queue`, under its former name; kept for one version. */
  readonly amqp: PluginAmqp
  /** The folder (or file) the plugin was loaded from. */
  readonly dir: string
  /**
   * A resource that outlives generations: the first generation opens it, each next one gets the
   * same value back, and `close` runs (as this plugin's stop entry `close <key>`, default phase
   * Egress) once the last generation holding it stops. Use it for pools, embedded stores, logs.
   */
  keep<T>(key: string, open: () => T | Promise<T>, close: (value: T) => unknown, options?: StopOptions): Promise<T>
  /** Registers a stop entry that runs when this generation stops; the returned function withdraws it. */
  onStop(name: string, fn: () => unknown | Promise<unknown>, options?: StopOptions): () => void
  /** Publishes this plugin's API for the plugins that declare it in `uses`. */
  provide(api: unknown): void
  /**
   * The API another plugin provided; it must be listed in this plugin's `uses` (`'name?'` for an
   * optional one, which answers undefined when that plugin is not running). Typed from
   * `PluginApis` when the provider declares itself there.
   */
  use<K extends keyof PluginApis>(name: K): PluginApis[K]
  use<T = unknown>(name: string): T
}

/**
 * The APIs plugins provide, by plugin name. A providing plugin declares its own entry, so
 * `ctx.use('db')` is typed without a cast:
 *
 *     declare module '@armature/core' { interface PluginApis { db: Database } }
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface PluginApis {}

export interface PluginDefinition<C extends ConfigShape = ConfigShape> {
  /** `[a-z0-9-]+`; must equal the folder or file name it is loaded from. */
  name: string
  version?: string
  description?: string
  /** Plugins that start first; their APIs are reachable with ctx.use(name). `'name?'`: only when loaded. */
  uses?: string[]
  /** What this plugin provides to the kernel: `'queue'`, a queue backend handed over with `ctx.queue.provideBackend` in setup. Such a plugin starts before the others. */
  provides?: Array<'queue'>
  /** Typed defaults; each may be overridden by the config file and the environment. */
  config?: C
  /** Kernel operations this plugin calls through `ctx.ops` (a control channel, say). */
  operations?: OperationName[]
  setup(ctx: PluginContext<C>): void | Promise<void>
}

export const PLUGIN_NAME = /^[a-z0-9-]+$/
const PROVIDABLE: readonly string[] = ['queue']

/** Declares a plugin. Returns the definition unchanged, checked and typed. */
export function definePlugin<const C extends ConfigShape = Record<never, never>>(definition: PluginDefinition<C>): PluginDefinition<C> {
  if (!definition || typeof definition !== 'object') throw new TypeError('definePlugin: expected an object')
  if (typeof definition.name !== 'string' || !PLUGIN_NAME.test(definition.name)) {
    throw new TypeError(`definePlugin: name ${JSON.stringify(definition.name)} must match [a-z0-9-]+`)
  }
  if (typeof definition.setup !== 'function') throw new TypeError(`definePlugin(${definition.name}): setup must be a function`)
  for (const op of definition.operations ?? []) {
    if (!(OPERATIONS as readonly string[]).includes(op))
      throw new TypeError(`definePlugin(${definition.name}): operation ${JSON.stringify(op)} is not one of ${OPERATIONS.join(', ')}`)
  }
  const { provides } = definition
  if (provides !== undefined && (!Array.isArray(provides) || provides.some((what) => !PROVIDABLE.includes(what)))) {
    throw new TypeError(`definePlugin(${definition.name}): provides ${JSON.stringify(provides)} is not valid; expected an array of ${PROVIDABLE.map((p) => `'${p}'`).join(', ')}`)
  }
  return definition
}
