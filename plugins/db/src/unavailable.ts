// Telling "the database cannot be reached now" from "this statement is wrong": the first is
// worth a 503 and a retry, the second is the caller's or the code's fault.
import { DatabaseUnavailableError } from './errors.ts'

/**
 * A database call failed because the database cannot be reached: an HTTP handler that lets it
 * through answers 503 with Retry-After. It carries `status` and `headers` like any HTTP error,
 * and `getResponse()` (Hono's HTTPException contract) so the plugin mount answers it as it is,
 * without logging each request: an outage is reported once, through health.
 */
export class DatabaseOutageError extends Error {
  override name = 'DatabaseOutageError'
  readonly status = 503
  readonly headers: Record<string, string>
  constructor(
    /** Which database, e.g. `PostgreSQL`. */
    readonly database: string,
    /** Why it is unreachable, in a few words (see unavailableReason). */
    readonly reason: string,
    readonly retryAfterSeconds: number,
    options?: { cause?: unknown },
  ) {
    super(`the database (${database}) is unavailable: ${reason}; retry in ${retryAfterSeconds} s`, options)
    this.headers = { 'retry-after': String(retryAfterSeconds) }
  }

  getResponse(): Response {
    return Response.json({ error: this.message }, { status: this.status, headers: this.headers })
  }
}

// Node socket errors meaning the server is not there (or the path to it broke).
const NETWORK_CODES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ECONNABORTED: 'connection aborted',
  EPIPE: 'connection closed',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENETDOWN: 'network down',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
}

// SQLSTATEs the server sends when it cannot serve now (class 08 is handled as a whole).
const SQLSTATES: Record<string, string> = {
  '57P01': 'the server is shutting down',
  '57P02': 'the server crashed',
  '57P03': 'the server is not accepting connections yet',
  '53300': 'too many connections',
}

// pg and pg-pool raise these without a code.
const PG_MESSAGES: Array<[RegExp, string]> = [
  [/^Connection terminated due to connection timeout/, 'connect timed out'],
  [/^Connection terminated/, 'connection lost'],
  [/^timeout exceeded when trying to connect/, 'no pool connection free in time'],
  [/^Client has encountered a connection error/, 'connection lost'],
  [/^Query read timeout/, 'the server stopped answering'],
]

/**
 * Why the database is unreachable, in a few words (no address, no credentials), or undefined
 * when `error` is not an outage: a constraint, a syntax error or a bad value stays undefined.
 * Looks through `cause` chains and AggregateErrors (a host with several addresses).
 */
export function unavailableReason(error: unknown, depth = 0): string | undefined {
  if (!error || typeof error !== 'object' || depth > 5) return undefined
  if (error instanceof DatabaseOutageError) return error.reason
  if (error instanceof DatabaseUnavailableError) return error.message
  const { code, message, cause, errors } = error as { code?: unknown; message?: unknown; cause?: unknown; errors?: unknown }
  if (typeof code === 'string') {
    if (NETWORK_CODES[code]) return NETWORK_CODES[code]
    if (SQLSTATES[code]) return SQLSTATES[code]
    if (/^08[0-9A-Z]{3}$/.test(code)) return `connection failure (SQLSTATE ${code})`
  }
  if (typeof message === 'string') for (const [pattern, reason] of PG_MESSAGES) if (pattern.test(message)) return reason
  if (Array.isArray(errors)) {
    for (const inner of errors) {
      const reason = unavailableReason(inner, depth + 1)
      if (reason) return reason
    }
  }
  return unavailableReason(cause, depth + 1)
}

/** True when `error` means the database cannot be reached now (a 503, worth retrying), not a wrong statement. */
export function isUnavailable(error: unknown): boolean {
  return unavailableReason(error) !== undefined
}
