// The HTTP surface at /analytics: ingest, the read side, the page and the admin routes.
import type { IncomingMessage } from 'node:http'
import { Hono, type Context, type MiddlewareHandler } from 'hono'
import type { HeaderLookup } from './ingest-request.ts'
import type { Ingest } from './ingest.ts'

export interface RouteOptions {
  ingest: Ingest
  /** The kernel's bounded JSON reader (413, 415 and 400 are its answers). */
  readJson(c: Context): Promise<unknown>
  /** The kernel's bearer check for the admin routes (ADMIN_TOKEN). */
  requireAdmin: MiddlewareHandler
}

const ACCEPTED = JSON.stringify({ status: 'OK' })

/** Request headers by lower-case name, read from the Node request when there is one (no Fetch Headers object built). */
function headersOf(c: Context): HeaderLookup {
  const headers = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming?.headers
  if (!headers) return (name) => c.req.header(name)
  return (name) => {
    const value = headers[name]
    return Array.isArray(value) ? value.join(', ') : value
  }
}

export function analyticsRoutes(options: RouteOptions): Hono {
  const { ingest } = options
  const app = new Hono()
  app.post('/', async (c) => {
    await ingest.accept(headersOf(c), () => options.readJson(c))
    return c.body(ACCEPTED, 202, { 'content-type': 'application/json' })
  })
  return app
}
