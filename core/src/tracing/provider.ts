// The kernel's tracer provider: an OTLP exporter behind a batch processor when tracing is
// configured, a no-op tracer otherwise (then no span is made, recorded or exported).
import { context, diag, DiagLogLevel, propagation, ProxyTracerProvider, type Tracer } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { W3CTraceContextPropagator } from '@opentelemetry/core'
import { OTLPTraceExporter as JsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http'
import { OTLPTraceExporter as ProtobufTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto'
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources'
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BasicTracerProvider,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  type Sampler,
} from '@opentelemetry/sdk-trace-base'
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions'
import type { Logger } from 'pino'
import type { TracingConfig } from './config.ts'

export interface Tracing {
  /** False when no exporter is configured: the servers then make no spans at all. */
  readonly enabled: boolean
  /** A tracer for one instrumentation scope (the kernel, or a plugin by name and version). */
  tracer(name: string, version?: string): Tracer
  /**
   * Exports what is still buffered, then closes the exporter. Resolves within `waitMs` even when
   * the receiver does not answer: the spans left are dropped with a warning, and the stop stays clean.
   */
  shutdown(waitMs: number): Promise<void>
}

type ExporterOptions = NonNullable<ConstructorParameters<typeof ProtobufTraceExporter>[0]>

const noop = new ProxyTracerProvider()

export const TRACING_OFF: Tracing = {
  enabled: false,
  tracer: (name, version) => noop.getTracer(name, version),
  shutdown: () => Promise.resolve(),
}

let processWide = false

export function startTracing(config: TracingConfig | undefined, log: Logger): Tracing {
  if (!config) return TRACING_OFF
  registerProcessWide(log)
  const exporterOptions: ExporterOptions = {
    url: config.url,
    headers: config.headers,
    timeoutMillis: config.timeoutMs,
    compression: config.compression as ExporterOptions['compression'],
  }
  const exporter = config.protocol === 'http/json' ? new JsonTraceExporter(exporterOptions) : new ProtobufTraceExporter(exporterOptions)
  const { batch } = config
  const provider = new BasicTracerProvider({
    resource: defaultResource().merge(resourceFromAttributes({ ...config.resourceAttributes, ...(config.serviceName ? { [ATTR_SERVICE_NAME]: config.serviceName } : {}) })),
    sampler: samplerFor(config),
    spanProcessors: [
      new BatchSpanProcessor(exporter, {
        scheduledDelayMillis: batch.scheduleDelayMs,
        exportTimeoutMillis: batch.exportTimeoutMs,
        maxQueueSize: batch.maxQueueSize,
        maxExportBatchSize: batch.maxExportBatchSize,
      }),
    ],
  })
  log.info(`tracing: exporting spans to ${config.url} (${config.protocol})`)
  return {
    enabled: true,
    tracer: (name, version) => provider.getTracer(name, version),
    shutdown: async (waitMs) => {
      let timer: NodeJS.Timeout | undefined
      const gaveUp = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), waitMs)))
      const outcome = await Promise.race([provider.shutdown().catch((error: Error) => error), gaveUp])
      clearTimeout(timer)
      if (outcome === 'late') log.warn(`tracing: ${config.url} did not take the last spans within ${waitMs} ms; they are dropped`)
      else if (outcome instanceof Error) log.warn(`tracing: the last spans were not exported: ${outcome.message}`)
    },
  }
}

/**
 * The active-context store (AsyncLocalStorage) and the W3C propagator belong to the process,
 * not to one kernel: they are registered once and stay, so kernels sharing a process (tests)
 * share them. One already registered by the application is kept.
 */
function registerProcessWide(log: Logger): void {
  if (processWide) return
  processWide = true
  const tracingLog = log.child({ component: 'tracing' })
  // Export failures and dropped spans are reported through diag; they belong in the kernel's log.
  const warn = (message: string, ...args: unknown[]) => tracingLog.warn(`tracing: ${readable(message)}${args.length ? ' ' + args.map(String).join(' ') : ''}`)
  diag.setLogger({ error: warn, warn, info: () => {}, debug: () => {}, verbose: () => {} }, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true })
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
  propagation.setGlobalPropagator(new W3CTraceContextPropagator())
}

function samplerFor(config: TracingConfig): Sampler {
  switch (config.sampler) {
    case 'always_on':
      return new AlwaysOnSampler()
    case 'always_off':
      return new AlwaysOffSampler()
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(config.samplerRatio)
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() })
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(config.samplerRatio) })
    default:
      return new ParentBasedSampler({ root: new AlwaysOnSampler() })
  }
}

/** The SDK reports a failed export as the error serialized to JSON, stack and all: one line is enough. */
function readable(message: string): string {
  if (!message.startsWith('{')) return message
  try {
    const error = JSON.parse(message) as { message?: unknown }
    return typeof error.message === 'string' ? `export failed: ${error.message}` : message
  } catch {
    return message
  }
}
