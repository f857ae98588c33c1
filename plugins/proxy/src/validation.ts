// The shape of a registered server and the checks on what a caller sends. Every refusal
// names the field, the value and what would be valid.
import { isIP } from 'node:net'
import type { TargetAllowList } from './allow-list.ts'
import { InvalidFieldError, PortNotAllowedError, TargetNotAllowedError } from './errors.ts'
import { HEALTH_CHECK_DEFAULTS, HEALTH_CHECK_LIMITS, type HealthCheckSpec } from './health-check.ts'
import { LIMIT_KEYS, effectiveLimits, limitProblem, pairProblem, type ListenerLimits } from './listener-limits.ts'
import { parseListenTls, type ListenTls, type PemPair } from './listen-tls.ts'
import { portAllowed, type PortRange } from './port-range.ts'

export interface RouteSpec {
  /** Path prefix, matched at a segment boundary: `/api` takes `/api` and `/api/x`, not `/apix`. */
  path: string
  /** Upstream base URLs, tried round-robin. */
  targets: string[]
  /** Remove `path` from the forwarded path. */
  strip: boolean
  /** Probe every target actively; without it, targets are judged by the requests alone. */
  healthCheck?: HealthCheckSpec
}

export interface ServerSpec {
  name: string
  /** `tls` makes it an HTTPS listener (see listen-tls.ts); limits left out follow the proxy's options. */
  listen: { port: number; host: string; tls?: ListenTls } & Partial<ListenerLimits>
  routes: RouteSpec[]
  /** 1-99: servers with a priority stop first, lowest first. */
  priority?: number
  /** One log line per request (method, path, status, duration, client). */
  accessLog?: boolean
}

export interface ValidationPolicy {
  allowList: TargetAllowList
  ports: PortRange
  /** The proxy's own certificate, which `listen.tls: true` serves; unset when none is configured. */
  certificate?: PemPair
  /** The listener limits of servers that do not set their own. */
  limits: ListenerLimits
}

export const NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/
export const LIMITS = { routes: 64, targetsPerRoute: 16, pathLength: 512, minPriority: 1, maxPriority: 99 } as const
const SERVER_FIELDS = new Set(['name', 'listen', 'routes', 'priority', 'accessLog'])
const LISTEN_FIELDS = new Set(['port', 'host', 'tls', ...LIMIT_KEYS])
const ROUTE_FIELDS = new Set(['path', 'targets', 'strip', 'healthCheck'])
const HEALTH_CHECK_FIELDS = new Set(['path', 'intervalMs', 'timeoutMs'])

export function parseServerSpec(body: unknown, policy: ValidationPolicy): ServerSpec {
  const record = object(body, 'body', SERVER_FIELDS)
  const name = parseName(record.name)
  const listen = object(record.listen ?? {}, 'listen', LISTEN_FIELDS)
  const port = listen.port ?? 0
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new InvalidFieldError('listen.port', `${JSON.stringify(port)} must be a whole number 0-65535 (0 picks any free port)`)
  }
  if (!portAllowed(port, policy.ports)) throw new PortNotAllowedError('listen.port', port, policy.ports)
  const host = listen.host ?? '127.0.0.1'
  if (typeof host !== 'string' || (isIP(host) === 0 && host !== 'localhost')) {
    throw new InvalidFieldError('listen.host', `${JSON.stringify(host)} must be an IP address (127.0.0.1, ::1, 0.0.0.0) or localhost`)
  }
  const tls = parseListenTls(listen.tls, policy.certificate)
  const spec: ServerSpec = { name, listen: { port, host, ...(tls ? { tls } : {}), ...parseLimits(listen, policy.limits) }, routes: parseRoutes(record.routes, policy, 'routes') }
  if (record.priority !== undefined && record.priority !== null) {
    const p = record.priority
    if (typeof p !== 'number' || !Number.isInteger(p) || p < LIMITS.minPriority || p > LIMITS.maxPriority) {
      throw new InvalidFieldError('priority', `${JSON.stringify(p)} must be a whole number ${LIMITS.minPriority}-${LIMITS.maxPriority} (lower stops first) or left out`)
    }
    spec.priority = p
  }
  const accessLog = parseAccessLog(record.accessLog)
  if (accessLog) spec.accessLog = true
  return spec
}

/** The limits a registration sets; the rest follow the proxy's options. */
function parseLimits(listen: Record<string, unknown>, defaults: ListenerLimits): Partial<ListenerLimits> {
  const limits: Partial<ListenerLimits> = {}
  for (const key of LIMIT_KEYS) {
    const value = listen[key]
    if (value === undefined || value === null) continue
    const problem = limitProblem(key, value)
    if (problem) throw new InvalidFieldError(`listen.${key}`, problem)
    limits[key] = value as number
  }
  const problem = pairProblem(effectiveLimits(limits, defaults))
  if (problem)
    throw new InvalidFieldError(
      limits.headersTimeoutMs !== undefined ? 'listen.headersTimeoutMs' : 'listen.requestTimeoutMs',
      `${problem} (the proxy's options give the value not set here)`,
    )
  return limits
}

function parseAccessLog(value: unknown): boolean | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'boolean') throw new InvalidFieldError('accessLog', `${JSON.stringify(value)} must be true or false`)
  return value
}

/** What PATCH may change: the routes, and the certificate of an HTTPS server. */
export interface ServerPatch {
  routes?: RouteSpec[]
  tls?: ListenTls
  accessLog?: boolean
}

/** PATCH accepts `{ routes?, tls?, accessLog? }`: the address, the protocol and the stop order are fixed at registration. */
export function parsePatch(body: unknown, policy: ValidationPolicy): ServerPatch {
  const record = object(body, 'body', new Set(['routes', 'tls', 'accessLog']))
  if (record.routes === undefined && record.tls === undefined && record.accessLog === undefined) {
    throw new InvalidFieldError('body', 'nothing to change; send routes, tls, accessLog or a mix')
  }
  const patch: ServerPatch = {}
  const accessLog = parseAccessLog(record.accessLog)
  if (accessLog !== undefined) patch.accessLog = accessLog
  if (record.routes !== undefined) patch.routes = parseRoutes(record.routes, policy, 'routes')
  if (record.tls !== undefined) {
    const tls = parseListenTls(record.tls, policy.certificate, 'tls')
    if (!tls) throw new InvalidFieldError('tls', 'must be true or { "cert": "<PEM>", "key": "<PEM>" }; a server cannot drop TLS')
    patch.tls = tls
  }
  return patch
}

export function parseName(value: unknown, field = 'name'): string {
  if (typeof value !== 'string' || !NAME_PATTERN.test(value)) {
    throw new InvalidFieldError(field, `${JSON.stringify(value)} must be 1-63 characters of a-z, 0-9 and -, starting with a letter or digit`)
  }
  return value
}

function parseRoutes(value: unknown, policy: ValidationPolicy, field: string): RouteSpec[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > LIMITS.routes) {
    throw new InvalidFieldError(field, `must be a list of 1-${LIMITS.routes} routes like [{ "path": "/", "targets": ["http://127.0.0.1:8080"] }]`)
  }
  const routes = value.map((item, i) => parseRoute(item, policy, `${field}[${i}]`))
  const seen = new Set<string>()
  routes.forEach((route, i) => {
    if (seen.has(route.path)) throw new InvalidFieldError(`${field}[${i}].path`, `${JSON.stringify(route.path)} appears twice; each path prefix is listed once`)
    seen.add(route.path)
  })
  return routes
}

function parseRoute(value: unknown, policy: ValidationPolicy, field: string): RouteSpec {
  const record = object(value, field, ROUTE_FIELDS)
  const path = record.path
  if (typeof path !== 'string' || !path.startsWith('/') || path.length > LIMITS.pathLength || /[\s?#]/.test(path)) {
    throw new InvalidFieldError(`${field}.path`, `${JSON.stringify(path)} must be a path prefix starting with / (no spaces, ? or #, at most ${LIMITS.pathLength} characters)`)
  }
  const targets = record.targets
  if (!Array.isArray(targets) || targets.length === 0 || targets.length > LIMITS.targetsPerRoute) {
    throw new InvalidFieldError(`${field}.targets`, `must be a list of 1-${LIMITS.targetsPerRoute} upstream URLs like "http://127.0.0.1:8080"`)
  }
  const strip = record.strip ?? false
  if (typeof strip !== 'boolean') throw new InvalidFieldError(`${field}.strip`, `${JSON.stringify(strip)} must be true or false`)
  const route: RouteSpec = {
    // A trailing slash would make `/api/` miss `/api`; the boundary check covers both.
    path: path.length > 1 ? path.replace(/\/+$/, '') || '/' : path,
    targets: targets.map((t, i) => parseTarget(t, policy, `${field}.targets[${i}]`)),
    strip,
  }
  if (record.healthCheck !== undefined && record.healthCheck !== null) route.healthCheck = parseHealthCheck(record.healthCheck, `${field}.healthCheck`)
  return route
}

function parseHealthCheck(value: unknown, field: string): HealthCheckSpec {
  const record = object(value, field, HEALTH_CHECK_FIELDS)
  const path = record.path
  if (typeof path !== 'string' || !path.startsWith('/') || path.length > LIMITS.pathLength || /[\s#]/.test(path)) {
    throw new InvalidFieldError(`${field}.path`, `${JSON.stringify(path)} must be a path starting with / (no spaces or #), like "/healthz"`)
  }
  const { minIntervalMs, maxIntervalMs, minTimeoutMs } = HEALTH_CHECK_LIMITS
  const intervalMs = record.intervalMs ?? HEALTH_CHECK_DEFAULTS.intervalMs
  if (typeof intervalMs !== 'number' || !Number.isInteger(intervalMs) || intervalMs < minIntervalMs || intervalMs > maxIntervalMs) {
    throw new InvalidFieldError(`${field}.intervalMs`, `${JSON.stringify(intervalMs)} must be a whole number of milliseconds, ${minIntervalMs}-${maxIntervalMs}`)
  }
  const timeoutMs = record.timeoutMs ?? Math.min(HEALTH_CHECK_DEFAULTS.timeoutMs, intervalMs)
  if (typeof timeoutMs !== 'number' || !Number.isInteger(timeoutMs) || timeoutMs < minTimeoutMs || timeoutMs > intervalMs) {
    throw new InvalidFieldError(`${field}.timeoutMs`, `${JSON.stringify(timeoutMs)} must be a whole number of milliseconds from ${minTimeoutMs} up to intervalMs (${intervalMs})`)
  }
  return { path, intervalMs, timeoutMs }
}

function parseTarget(value: unknown, policy: ValidationPolicy, field: string): string {
  let url: URL
  try {
    if (typeof value !== 'string') throw new Error()
    url = new URL(value)
  } catch {
    throw new InvalidFieldError(field, `${JSON.stringify(value)} must be an absolute http:// or https:// URL`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InvalidFieldError(field, `${JSON.stringify(value)} uses ${url.protocol}; only http: and https: upstreams are proxied`)
  }
  if (url.username || url.password || url.search || url.hash) {
    throw new InvalidFieldError(field, `${JSON.stringify(value)} must not carry credentials, a query or a fragment`)
  }
  if (!policy.allowList.allows(url.hostname)) throw new TargetNotAllowedError(field, value as string, policy.allowList.entries)
  return url.href.replace(/\/+$/, '')
}

function object(value: unknown, field: string, allowed: Set<string>): Record<string, unknown> {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new InvalidFieldError(field, 'must be a JSON object')
  for (const key of Object.keys(value)) {
    if (!allowed.has(key)) throw new InvalidFieldError(field === 'body' ? key : `${field}.${key}`, `unknown field; expected one of ${[...allowed].join(', ')}`)
  }
  return value as Record<string, unknown>
}
