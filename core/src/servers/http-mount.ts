// A plugin's Hono app mounted under its base: its errors answered (HttpError as JSON, a 500
// logged), and the route pattern that served a request found for metric labels.
import { Hono } from 'hono'
import type { Logger } from 'pino'
import { isErrorStatus } from '../errors.ts'
import type { ErrorAnswer } from './intercept.ts'

/** Mounts the plugin's app under its base, with errors logged through the plugin's logger. */
export function mount(base: string, app: Hono<any, any, any>, log: Logger): Hono {
  const wrapper = new Hono()
  wrapper.route(base, app)
  wrapper.onError((error, c) => answerError(error, c, log))
  return wrapper
}

/**
 * The route pattern that served a request, for metric labels. Asked of the router after the
 * response (a match costs less than a middleware on every request); undefined when none matched.
 */
export function routeOf(app: Hono, method: string, path: string): string | undefined {
  const matches = (app.router.match(method, path) as unknown as [Array<[[unknown, { path: string; method: string }], unknown]>])[0]
  // Middleware (`use`) is registered for ALL methods and runs first; the first route of the
  // request's own method is the one that answered. Without one, the last match did.
  for (const [[, route]] of matches) if (route.method !== 'ALL') return route.path
  return matches.length ? matches[matches.length - 1]![0][1].path : undefined
}

/** A plugin's error as a response: its own (HTTPException), its status (HttpError) as JSON, else a logged 500. */
export const answerError: ErrorAnswer = (error, c, log) => {
  const withResponse = error as Error & { getResponse?: () => Response; status?: unknown; field?: unknown; headers?: unknown }
  if (typeof withResponse.getResponse === 'function') return withResponse.getResponse()
  // HttpError, or any error that says which status it means: answered as JSON with its headers.
  if (isErrorStatus(withResponse.status)) {
    const status = withResponse.status
    // A 500 is a bug and is logged with its stack; 502-504 name an outage or a timeout, which the
    // plugin reports once (ctx.health), so each request that meets it is only a debug line.
    if (status === 500) log.error({ err: error, path: c.req.path }, `${status} in ${c.req.method} ${c.req.path}: ${error.message}`)
    else if (status > 500) log.debug(`${status} in ${c.req.method} ${c.req.path}: ${error.message}`)
    const field = typeof withResponse.field === 'string' ? { field: withResponse.field } : {}
    return c.json({ error: error.message, ...field }, status as 400, headersOf(withResponse.headers))
  }
  log.error({ err: error, path: c.req.path }, `unhandled error in ${c.req.method} ${c.req.path}: ${error.message}`)
  return c.json({ error: 'internal error' }, 500)
}

/** An error's own response headers, when it carries a plain object of strings. */
function headersOf(headers: unknown): Record<string, string> | undefined {
  if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) return undefined
  const entries = Object.entries(headers).filter((entry): entry is [string, string] => typeof entry[1] === 'string')
  return entries.length ? Object.fromEntries(entries) : undefined
}
