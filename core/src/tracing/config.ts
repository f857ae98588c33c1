// Tracing settings from the OpenTelemetry SDK's environment variables. Exporting is off
// unless an OTLP endpoint is set; an invalid value stops start-up naming the variable.
import { ConfigError } from '../errors.ts'
import { asBoolean, asNonNegativeInt, asPositiveInt, type Env } from '../config.ts'

export type OtlpProtocol = 'http/protobuf' | 'http/json'
export type SamplerName = 'always_on' | 'always_off' | 'traceidratio' | 'parentbased_always_on' | 'parentbased_always_off' | 'parentbased_traceidratio'

export interface TracingConfig {
  /** Where spans are POSTed: the traces endpoint as given, or the base endpoint + `/v1/traces`. */
  url: string
  protocol: OtlpProtocol
  headers: Record<string, string>
  /** Per export request. */
  timeoutMs: number
  compression: 'gzip' | 'none'
  serviceName: string | undefined
  resourceAttributes: Record<string, string>
  sampler: SamplerName
  /** The ratio of the traceidratio samplers, 0..1. */
  samplerRatio: number
  batch: { scheduleDelayMs: number; exportTimeoutMs: number; maxQueueSize: number; maxExportBatchSize: number }
}

const PROTOCOLS: OtlpProtocol[] = ['http/protobuf', 'http/json']
const SAMPLERS: SamplerName[] = ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio']

/** The tracing settings, or undefined when nothing is to be exported (then no span is made at all). */
export function readTracingConfig(env: Env): TracingConfig | undefined {
  const value = (name: string) => (env[name] === undefined || env[name]!.trim() === '' ? undefined : env[name]!.trim())
  // The signal-specific variable wins over the general one, as the specification says.
  const either = (signal: string, general: string) =>
    value(signal) !== undefined ? ([signal, value(signal)!] as const) : value(general) !== undefined ? ([general, value(general)!] as const) : undefined

  if (value('OTEL_SDK_DISABLED') && asBoolean(value('OTEL_SDK_DISABLED'), 'OTEL_SDK_DISABLED')) return undefined
  const exporter = value('OTEL_TRACES_EXPORTER') ?? 'otlp'
  if (exporter === 'none') return undefined
  if (exporter !== 'otlp') throw new ConfigError('OTEL_TRACES_EXPORTER', `${JSON.stringify(exporter)} is not supported (otlp or none)`)

  const traces = value('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT')
  const base = value('OTEL_EXPORTER_OTLP_ENDPOINT')
  if (traces === undefined && base === undefined) return undefined
  const url = traces !== undefined ? asHttpUrl(traces, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT') : `${asHttpUrl(base!, 'OTEL_EXPORTER_OTLP_ENDPOINT').replace(/\/+$/, '')}/v1/traces`

  const protocolSetting = either('OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', 'OTEL_EXPORTER_OTLP_PROTOCOL')
  const protocol = (protocolSetting?.[1] ?? 'http/protobuf') as OtlpProtocol
  if (!PROTOCOLS.includes(protocol)) throw new ConfigError(protocolSetting![0], `${JSON.stringify(protocol)} is not supported (${PROTOCOLS.join(' or ')})`)

  const headersSetting = either('OTEL_EXPORTER_OTLP_TRACES_HEADERS', 'OTEL_EXPORTER_OTLP_HEADERS')
  const timeoutSetting = either('OTEL_EXPORTER_OTLP_TRACES_TIMEOUT', 'OTEL_EXPORTER_OTLP_TIMEOUT')
  const compressionSetting = either('OTEL_EXPORTER_OTLP_TRACES_COMPRESSION', 'OTEL_EXPORTER_OTLP_COMPRESSION')
  const compression = compressionSetting?.[1] ?? 'none'
  if (compression !== 'gzip' && compression !== 'none') throw new ConfigError(compressionSetting![0], `${JSON.stringify(compression)} is not supported (gzip or none)`)

  const sampler = (value('OTEL_TRACES_SAMPLER') ?? 'parentbased_always_on') as SamplerName
  if (!SAMPLERS.includes(sampler)) throw new ConfigError('OTEL_TRACES_SAMPLER', `${JSON.stringify(sampler)} is not a sampler (${SAMPLERS.join(', ')})`)
  const ratioRaw = value('OTEL_TRACES_SAMPLER_ARG')
  const samplerRatio = ratioRaw === undefined ? 1 : Number(ratioRaw)
  if (!(samplerRatio >= 0 && samplerRatio <= 1)) throw new ConfigError('OTEL_TRACES_SAMPLER_ARG', `${JSON.stringify(ratioRaw)} is not a ratio from 0 to 1`)

  const number = <T>(name: string, parse: (raw: unknown, key: string) => T, fallback: T): T => (value(name) === undefined ? fallback : parse(value(name), name))
  const batch = {
    scheduleDelayMs: number('OTEL_BSP_SCHEDULE_DELAY', asNonNegativeInt, 5000),
    exportTimeoutMs: number('OTEL_BSP_EXPORT_TIMEOUT', asPositiveInt, 30_000),
    maxQueueSize: number('OTEL_BSP_MAX_QUEUE_SIZE', asPositiveInt, 2048),
    maxExportBatchSize: number('OTEL_BSP_MAX_EXPORT_BATCH_SIZE', asPositiveInt, 512),
  }
  if (batch.maxExportBatchSize > batch.maxQueueSize) {
    throw new ConfigError('OTEL_BSP_MAX_EXPORT_BATCH_SIZE', `${batch.maxExportBatchSize} is larger than OTEL_BSP_MAX_QUEUE_SIZE (${batch.maxQueueSize})`)
  }
  const resourceAttributes = value('OTEL_RESOURCE_ATTRIBUTES') ? keyValueList(value('OTEL_RESOURCE_ATTRIBUTES')!, 'OTEL_RESOURCE_ATTRIBUTES') : {}
  return {
    url,
    protocol,
    headers: headersSetting ? keyValueList(headersSetting[1], headersSetting[0]) : {},
    timeoutMs: timeoutSetting ? asPositiveInt(timeoutSetting[1], timeoutSetting[0]) : 10_000,
    compression,
    serviceName: value('OTEL_SERVICE_NAME') ?? resourceAttributes['service.name'],
    resourceAttributes,
    sampler,
    samplerRatio,
    batch,
  }
}

function asHttpUrl(raw: string, key: string): string {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new ConfigError(key, `${JSON.stringify(raw)} is not a URL (for example http://127.0.0.1:4318)`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(key, `${JSON.stringify(raw)} must be an http:// or https:// URL`)
  return raw
}

/** `key1=value1,key2=value2` with percent-encoded values (the format of OTEL_*_HEADERS and OTEL_RESOURCE_ATTRIBUTES). */
function keyValueList(raw: string, key: string): Record<string, string> {
  const result: Record<string, string> = {}
  for (const pair of raw.split(',')) {
    if (pair.trim() === '') continue
    const at = pair.indexOf('=')
    const name = at === -1 ? '' : pair.slice(0, at).trim()
    if (!name) throw new ConfigError(key, `${JSON.stringify(pair)} is not a key=value pair (expected key1=value1,key2=value2)`)
    try {
      result[name] = decodeURIComponent(pair.slice(at + 1).trim())
    } catch {
      throw new ConfigError(key, `the value of ${name} is not valid percent-encoding`)
    }
  }
  return result
}
