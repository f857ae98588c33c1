// One typed configuration: defaults < armature.config.(json|ts) < environment < explicit overrides.
import { existsSync, readFileSync } from 'node:fs'
import { resolve, extname } from 'node:path'
import { pathToFileURL } from 'node:url'
import { ConfigError } from './errors.ts'
import { MAX_RETRY_DELAY_MS } from './queue.ts'
import { LOG_LEVELS } from './log.ts'
import { DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_JSON_DEPTH, MAX_BODY_BYTES, MAX_JSON_DEPTH } from './http/body.ts'
import { readTracingConfig, type TracingConfig } from './tracing/config.ts'

export type Env = Readonly<Record<string, string | undefined>>

export interface KernelConfig {
  host: string
  port: number
  httpsPort: number
  grpcPort: number
  grpcsPort: number
  /** Largest WebSocket message accepted, in bytes. */
  wsMaxPayload: number
  /** Ping interval; a peer that misses one pong is terminated. */
  wsPingIntervalMs: number
  /** Slow-client bounds of the kernel's HTTP and HTTPS listeners. */
  http: HttpLimits
  /** Bytes a WebSocket may hold unsent for a peer that is not reading; past it the socket is closed with 1008. */
  wsMaxBufferedBytes: number
  /** Bytes a gRPC stream may hold unsent for a peer that is not reading; past it the call ends with RESOURCE_EXHAUSTED. */
  grpcMaxBufferedBytes: number
  tlsCert: string | undefined
  tlsKey: string | undefined
  adminToken: string | undefined
  /** RabbitMQ for ctx.queue; unset, a plugin-provided queue backend serves it, or none. */
  amqpUrl: string | undefined
  amqpPrefetch: number
  /** Wait before a failed message's first retry, doubling for each next one; 0 retries at once. */
  amqpRetryDelayMs: number
  logLevel: string
  logFile: string
  pluginsDir: string
  dataDir: string
  buildDir: string
  shutdown: {
    timeoutMs: number
    /** How long the Ready phase waits, answering 503 on /readyz, before listeners close (lets balancers notice). */
    readyDelayMs: number
    /** Stop-entry id or prefix -> phase, e.g. { "http": 10, "plugin:cache": 30 }. */
    order: Record<string, number>
  }
  /** How long a retired generation may take to finish its in-flight requests. */
  drainTimeoutMs: number
  /** A plugin whose setup failed is tried again after retryMs, doubling up to retryMaxMs, retryAttempts times (0 ms: never). */
  setup: { retryMs: number; retryMaxMs: number; retryAttempts: number }
  watch: boolean
  dev: boolean
  /** Span export (OTLP), from the OpenTelemetry SDK's OTEL_* variables; undefined: no spans at all. */
  tracing: TracingConfig | undefined
  /** Per-plugin options from the config file, checked when the plugin loads. */
  plugins: Record<string, Record<string, unknown>>
  /** Where the config came from, for the start-up log. */
  configFile: string | undefined
}

export interface HttpLimits {
  /** Time a client has to send the whole header block (408 after). */
  headersTimeoutMs: number
  /** Time a client has to send the whole request, body included (408 after). */
  requestTimeoutMs: number
  /** How long an idle keep-alive connection stays open. */
  keepAliveTimeoutMs: number
  /** Open connections per listener; past it, new ones are dropped. */
  maxConnections: number
  /** Connections the OS queues before they are accepted (listen(2)'s backlog; the OS caps it at net.core.somaxconn). */
  backlog: number
  /** Largest request body ctx.http.readJson/readBody accept unless a route says otherwise, in bytes. */
  maxBodyBytes: number
  /** Deepest JSON nesting ctx.http.readJson accepts unless a route says otherwise. */
  maxJsonDepth: number
}

export type KernelOverrides = Partial<Omit<KernelConfig, 'shutdown' | 'plugins' | 'http' | 'setup'>> & {
  http?: Partial<HttpLimits>
  setup?: Partial<KernelConfig['setup']>
  shutdown?: Partial<KernelConfig['shutdown']>
  plugins?: KernelConfig['plugins']
}

const FILE_KEYS = new Set([
  'host',
  'port',
  'httpsPort',
  'grpcPort',
  'grpcsPort',
  'wsMaxPayload',
  'wsPingIntervalMs',
  'tlsCert',
  'tlsKey',
  'adminToken',
  'logLevel',
  'logFile',
  'pluginsDir',
  'dataDir',
  'amqpUrl',
  'amqpPrefetch',
  'amqpRetryDelayMs',
  'shutdown',
  'drainTimeoutMs',
  'watch',
  'plugins',
  'http',
  'setup',
  'wsMaxBufferedBytes',
  'grpcMaxBufferedBytes',
])

/** Finds and parses the config file: an explicit path, else armature.config.json or .ts in cwd. */
export async function readConfigFile(cwd: string, explicit?: string): Promise<{ file?: string; data: Record<string, unknown> }> {
  const candidates = explicit ? [resolve(cwd, explicit)] : ['armature.config.json', 'armature.config.ts'].map((f) => resolve(cwd, f))
  const file = candidates.find((f) => existsSync(f))
  if (!file) {
    if (explicit) throw new ConfigError('--config', `${explicit} does not exist`)
    return { data: {} }
  }
  let data: unknown
  if (extname(file) === '.json') {
    try {
      data = JSON.parse(readFileSync(file, 'utf8'))
    } catch (error) {
      throw new ConfigError(file, `invalid JSON: ${(error as Error).message}`)
    }
  } else {
    try {
      data = (await import(pathToFileURL(file).href)).default
    } catch (error) {
      throw new ConfigError(file, `cannot load: ${(error as Error).message}`)
    }
  }
  if (!isPlainObject(data)) throw new ConfigError(file, 'must hold an object')
  return { file, data }
}

export async function loadKernelConfig(options: { cwd: string; env: Env; configFile?: string; overrides?: KernelOverrides }): Promise<KernelConfig> {
  const { cwd, env } = options
  const { file, data } = await readConfigFile(cwd, options.configFile)
  for (const key of Object.keys(data)) {
    if (!FILE_KEYS.has(key)) throw new ConfigError(key, `unknown option in ${file} (known: ${[...FILE_KEYS].join(', ')})`)
  }
  const o = options.overrides ?? {}
  const fileShutdown = (data.shutdown ?? {}) as Record<string, unknown>
  if (!isPlainObject(fileShutdown)) throw new ConfigError('shutdown', 'must be an object like { "timeoutMs": 10000, "order": { "http": 10 } }')
  const fileSetup = (data.setup ?? {}) as Record<string, unknown>
  if (!isPlainObject(fileSetup)) throw new ConfigError('setup', 'must be an object like { "retryMs": 1000, "retryMaxMs": 30000, "retryAttempts": 20 }')
  const fileHttp = (data.http ?? {}) as Record<string, unknown>
  if (!isPlainObject(fileHttp)) throw new ConfigError('http', 'must be an object like { "headersTimeoutMs": 30000, "maxConnections": 10000 }')

  const pick = <T>(override: T | undefined, envName: string, fileKey: string, parse: (raw: unknown, key: string) => T, fallback: T, fileValue = data[fileKey]): T => {
    if (override !== undefined) return override
    const fromEnv = env[envName]
    if (fromEnv !== undefined && fromEnv !== '') return parse(fromEnv, envName)
    if (fileValue !== undefined) return parse(fileValue, fileKey)
    return fallback
  }

  const config: KernelConfig = {
    // `dev` is for one developer's machine: loopback unless HOST says otherwise.
    host: pick(o.host, 'HOST', 'host', asString, o.dev ? '127.0.0.1' : '0.0.0.0'),
    port: pick(o.port, 'PORT', 'port', asPort, 8080),
    httpsPort: pick(o.httpsPort, 'HTTPS_PORT', 'httpsPort', asPort, 8443),
    grpcPort: pick(o.grpcPort, 'GRPC_PORT', 'grpcPort', asPort, 50051),
    grpcsPort: pick(o.grpcsPort, 'GRPCS_PORT', 'grpcsPort', asPort, 50052),
    wsMaxPayload: pick(o.wsMaxPayload, 'WS_MAX_PAYLOAD', 'wsMaxPayload', asPositiveInt, 1024 * 1024),
    wsPingIntervalMs: pick(o.wsPingIntervalMs, 'WS_PING_INTERVAL_MS', 'wsPingIntervalMs', asPositiveInt, 30_000),
    http: {
      headersTimeoutMs: pick(o.http?.headersTimeoutMs, 'HTTP_HEADERS_TIMEOUT_MS', 'http.headersTimeoutMs', asPositiveInt, 30_000, fileHttp.headersTimeoutMs),
      requestTimeoutMs: pick(o.http?.requestTimeoutMs, 'HTTP_REQUEST_TIMEOUT_MS', 'http.requestTimeoutMs', asPositiveInt, 60_000, fileHttp.requestTimeoutMs),
      keepAliveTimeoutMs: pick(o.http?.keepAliveTimeoutMs, 'HTTP_KEEP_ALIVE_TIMEOUT_MS', 'http.keepAliveTimeoutMs', asPositiveInt, 5_000, fileHttp.keepAliveTimeoutMs),
      maxConnections: pick(o.http?.maxConnections, 'HTTP_MAX_CONNECTIONS', 'http.maxConnections', asPositiveInt, 10_000, fileHttp.maxConnections),
      backlog: pick(o.http?.backlog, 'HTTP_BACKLOG', 'http.backlog', asPositiveInt, 2048, fileHttp.backlog),
      maxBodyBytes: pick(
        o.http?.maxBodyBytes,
        'HTTP_MAX_BODY_BYTES',
        'http.maxBodyBytes',
        asIntUpTo(MAX_BODY_BYTES, 'the longest text a string can hold'),
        DEFAULT_MAX_BODY_BYTES,
        fileHttp.maxBodyBytes,
      ),
      maxJsonDepth: pick(
        o.http?.maxJsonDepth,
        'HTTP_MAX_JSON_DEPTH',
        'http.maxJsonDepth',
        asIntUpTo(MAX_JSON_DEPTH, 'deeper documents overflow JSON.stringify'),
        DEFAULT_MAX_JSON_DEPTH,
        fileHttp.maxJsonDepth,
      ),
    },
    wsMaxBufferedBytes: pick(o.wsMaxBufferedBytes, 'WS_MAX_BUFFERED_BYTES', 'wsMaxBufferedBytes', asPositiveInt, 8 * 1024 * 1024),
    grpcMaxBufferedBytes: pick(o.grpcMaxBufferedBytes, 'GRPC_MAX_BUFFERED_BYTES', 'grpcMaxBufferedBytes', asPositiveInt, 8 * 1024 * 1024),
    tlsCert: pick(o.tlsCert, 'TLS_CERT', 'tlsCert', asPath(cwd), undefined),
    tlsKey: pick(o.tlsKey, 'TLS_KEY', 'tlsKey', asPath(cwd), undefined),
    adminToken: pick(o.adminToken, 'ADMIN_TOKEN', 'adminToken', asString, undefined),
    amqpUrl: pick(o.amqpUrl, 'AMQP_URL', 'amqpUrl', asString, undefined),
    amqpPrefetch: pick(o.amqpPrefetch, 'AMQP_PREFETCH', 'amqpPrefetch', asPositiveInt, 10),
    amqpRetryDelayMs: pick(o.amqpRetryDelayMs, 'AMQP_RETRY_DELAY_MS', 'amqpRetryDelayMs', asRetryDelay, 1000),
    logLevel: pick(o.logLevel, 'LOG_LEVEL', 'logLevel', asLogLevel, 'info'),
    logFile: pick(o.logFile, 'LOG_FILE', 'logFile', asPath(cwd), resolve(cwd, 'logs/armature.log')),
    pluginsDir: pick(o.pluginsDir, 'PLUGINS_DIR', 'pluginsDir', asPath(cwd), resolve(cwd, 'plugins')),
    dataDir: pick(o.dataDir, 'DATA_DIR', 'dataDir', asPath(cwd), resolve(cwd, '.armature/data')),
    buildDir: o.buildDir ?? resolve(cwd, '.armature/build'),
    shutdown: {
      timeoutMs: pick(o.shutdown?.timeoutMs, 'SHUTDOWN_TIMEOUT_MS', 'shutdown.timeoutMs', asPositiveInt, 10_000, fileShutdown.timeoutMs),
      readyDelayMs: pick(o.shutdown?.readyDelayMs, 'SHUTDOWN_READY_DELAY_MS', 'shutdown.readyDelayMs', asNonNegativeInt, 0, fileShutdown.readyDelayMs),
      order: o.shutdown?.order ?? asOrder(fileShutdown.order),
    },
    drainTimeoutMs: pick(o.drainTimeoutMs, 'DRAIN_TIMEOUT_MS', 'drainTimeoutMs', asPositiveInt, 10_000),
    setup: {
      retryMs: pick(o.setup?.retryMs, 'SETUP_RETRY_MS', 'setup.retryMs', asNonNegativeInt, 1_000, fileSetup.retryMs),
      retryMaxMs: pick(o.setup?.retryMaxMs, 'SETUP_RETRY_MAX_MS', 'setup.retryMaxMs', asPositiveInt, 30_000, fileSetup.retryMaxMs),
      retryAttempts: pick(o.setup?.retryAttempts, 'SETUP_RETRY_ATTEMPTS', 'setup.retryAttempts', asNonNegativeInt, 20, fileSetup.retryAttempts),
    },
    watch: pick(o.watch, 'WATCH', 'watch', asBoolean, false),
    dev: o.dev ?? false,
    tracing: o.tracing ?? readTracingConfig(env),
    plugins: o.plugins ?? asPluginSection(data.plugins),
    configFile: file,
  }
  for (const key of Object.keys(fileHttp)) {
    if (!(key in config.http)) throw new ConfigError(`http.${key}`, `unknown option (known: ${Object.keys(config.http).join(', ')})`)
  }
  if (config.http.headersTimeoutMs > config.http.requestTimeoutMs) {
    throw new ConfigError(
      'HTTP_HEADERS_TIMEOUT_MS',
      `${config.http.headersTimeoutMs} is longer than HTTP_REQUEST_TIMEOUT_MS (${config.http.requestTimeoutMs}); the headers are part of the request`,
    )
  }
  if (Boolean(config.tlsCert) !== Boolean(config.tlsKey)) {
    throw new ConfigError(config.tlsCert ? 'TLS_KEY' : 'TLS_CERT', 'TLS_CERT and TLS_KEY must be set together')
  }
  for (const key of ['tlsCert', 'tlsKey'] as const) {
    const path = config[key]
    if (path && !existsSync(path)) throw new ConfigError(key === 'tlsCert' ? 'TLS_CERT' : 'TLS_KEY', `${path} does not exist`)
  }
  return config
}

// ---- plugin options ----

function asString(raw: unknown, key: string): string {
  if (typeof raw !== 'string') throw new ConfigError(key, `expected a string, got ${JSON.stringify(raw)}`)
  return raw
}

function asPath(cwd: string) {
  return (raw: unknown, key: string) => resolve(cwd, asString(raw, key))
}

function asPort(raw: unknown, key: string): number {
  const n = typeof raw === 'number' ? raw : Number(raw)
  if (!Number.isInteger(n) || n < 0 || n > 65535 || (typeof raw === 'string' && raw.trim() === '')) {
    throw new ConfigError(key, `${JSON.stringify(raw)} is not a port (an integer 0-65535)`)
  }
  return n
}

export function asPositiveInt(raw: unknown, key: string): number {
  const n = typeof raw === 'number' ? raw : Number(raw)
  if (!Number.isInteger(n) || n <= 0) throw new ConfigError(key, `${JSON.stringify(raw)} is not a positive integer`)
  return n
}

/** A positive integer up to `max`; `why` says what lies past it. */
function asIntUpTo(max: number, why: string) {
  return (raw: unknown, key: string): number => {
    const n = asPositiveInt(raw, key)
    if (n > max) throw new ConfigError(key, `${JSON.stringify(raw)} is over ${max} (${why})`)
    return n
  }
}

/** The AMQP retry delay: 0 (at once) up to an hour, the longest a retry waits. */
function asRetryDelay(raw: unknown, key: string): number {
  const n = asNonNegativeInt(raw, key)
  if (n > MAX_RETRY_DELAY_MS) throw new ConfigError(key, `${JSON.stringify(raw)} is over an hour (${MAX_RETRY_DELAY_MS} ms), the longest a retry waits`)
  return n
}

export function asNonNegativeInt(raw: unknown, key: string): number {
  const n = typeof raw === 'number' ? raw : Number(raw)
  if (!Number.isInteger(n) || n < 0) throw new ConfigError(key, `${JSON.stringify(raw)} is not a non-negative integer`)
  return n
}

export function asBoolean(raw: unknown, key: string): boolean {
  if (typeof raw === 'boolean') return raw
  const s = String(raw).toLowerCase()
  if (['1', 'true', 'yes', 'on'].includes(s)) return true
  if (['0', 'false', 'no', 'off'].includes(s)) return false
  throw new ConfigError(key, `${JSON.stringify(raw)} is not a boolean (true/false, 1/0, yes/no)`)
}

function asLogLevel(raw: unknown, key: string): string {
  const level = asString(raw, key)
  if (!(LOG_LEVELS as readonly string[]).includes(level)) throw new ConfigError(key, `${JSON.stringify(level)} is not a log level (${LOG_LEVELS.join(', ')})`)
  return level
}

function asOrder(raw: unknown): Record<string, number> {
  if (raw === undefined) return {}
  if (!isPlainObject(raw)) throw new ConfigError('shutdown.order', 'must be an object mapping stop entries to phases, e.g. { "http": 10 }')
  for (const [key, value] of Object.entries(raw)) {
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new ConfigError(`shutdown.order.${key}`, `${JSON.stringify(value)} is not a phase number`)
  }
  return raw as Record<string, number>
}

function asPluginSection(raw: unknown): Record<string, Record<string, unknown>> {
  if (raw === undefined) return {}
  if (!isPlainObject(raw)) throw new ConfigError('plugins', 'must be an object keyed by plugin name')
  for (const [name, value] of Object.entries(raw)) {
    if (!isPlainObject(value)) throw new ConfigError(`plugins.${name}`, 'must be an object of options')
  }
  return raw as Record<string, Record<string, unknown>>
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.getPrototypeOf(value) === Object.prototype
}
