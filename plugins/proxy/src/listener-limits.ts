// Bounds on what one client may hold of a proxy server: how long it may take to send its
// headers and its whole request, how long an idle keep-alive connection stays, and how many
// connections the listener takes at once. A slow or hoarding client is cut off instead of
// holding a socket (and a file descriptor) for ever.

export interface ListenerLimits {
  /** Time from the request's first byte to its last header; past it, 408 and the connection closes. */
  headersTimeoutMs: number
  /** Time to receive the whole request, body included; 0 for no limit (long uploads). */
  requestTimeoutMs: number
  /** How long an idle keep-alive connection is kept. */
  keepAliveTimeoutMs: number
  /** Connections open at once; further ones are closed as they arrive. */
  maxConnections: number
}

/**
 * The kernel's listener defaults, except the request timeout: a proxied body may be 10 MiB
 * (maxBodyBytes), which takes minutes on a slow link.
 */
export const LISTENER_DEFAULTS: ListenerLimits = { headersTimeoutMs: 30_000, requestTimeoutMs: 300_000, keepAliveTimeoutMs: 5000, maxConnections: 10_000 }

export const LIMIT_KEYS = Object.keys(LISTENER_DEFAULTS) as Array<keyof ListenerLimits>

const DAY_MS = 86_400_000
/** What each bound accepts, in the options and at registration alike. */
export const LIMIT_RANGES: Record<keyof ListenerLimits, { min: number; max: number }> = {
  headersTimeoutMs: { min: 1, max: DAY_MS },
  requestTimeoutMs: { min: 0, max: DAY_MS },
  keepAliveTimeoutMs: { min: 1, max: DAY_MS },
  maxConnections: { min: 1, max: 1_000_000 },
}

/** Why `value` is not valid for `key`, or undefined when it is. */
export function limitProblem(key: keyof ListenerLimits, value: unknown): string | undefined {
  const { min, max } = LIMIT_RANGES[key]
  if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max) return undefined
  return `${JSON.stringify(value)} must be a whole number ${min}-${max}${key === 'requestTimeoutMs' ? ' (0: no limit)' : ''}`
}

/** Why the pair does not fit together (node:http refuses a headers timeout past the request timeout), or undefined. */
export function pairProblem(limits: ListenerLimits): string | undefined {
  if (limits.requestTimeoutMs > 0 && limits.headersTimeoutMs > limits.requestTimeoutMs) {
    return `headersTimeoutMs ${limits.headersTimeoutMs} must not exceed requestTimeoutMs ${limits.requestTimeoutMs}`
  }
  return undefined
}

/**
 * The options node:http(s) createServer takes for these limits. Node checks the two timeouts
 * on a timer (every 30 s by default), so it runs as the kernel's listeners have it: every
 * quarter of the headers timeout, 100 ms to 1 s. maxConnections is set on the server afterwards.
 */
export function serverOptions(limits: ListenerLimits): { headersTimeout: number; requestTimeout: number; keepAliveTimeout: number; connectionsCheckingInterval: number } {
  return {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4))),
  }
}

/** A server's limits: what its registration set, the proxy's options for the rest. */
export function effectiveLimits(overrides: Partial<ListenerLimits>, defaults: ListenerLimits): ListenerLimits {
  const limits = { ...defaults }
  for (const key of LIMIT_KEYS) if (overrides[key] !== undefined) limits[key] = overrides[key]
  return limits
}
