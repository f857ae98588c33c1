// The HTTP surface at /analytics: ingest, the read side, the page and the admin routes.
import type { IncomingMessage } from 'node:http'
import { Hono, type Context, type MiddlewareHandler } from 'hono'
import type { HeaderLookup } from './ingest-request.ts'
import type { Ingest } from './ingest.ts'
import type { LeaseStore } from './leases.ts'
import { backlog, parseStatsQuery, stats } from './queries.ts'
import type { SqlDatabase } from './sql.ts'
import { IngestError, RowStateError } from './errors.ts'

export interface RouteOptions {
  ingest: Ingest
  db: SqlDatabase
  leases: LeaseStore
  /** The kernel's bounded JSON reader (413, 415 and 400 are its answers). */
  readJson(c: Context): Promise<unknown>
  /** The page's files (index.html, page.js, page.css) by name. */
  page: ReadonlyMap<string, string>
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
  app.get('/stats', async (c) => c.json(await stats(options.db, parseStatsQuery({ from: c.req.query('from'), to: c.req.query('to'), event: c.req.query('event') }))))
  app.get('/backlog', async (c) => c.json(await backlog(options.db)))

  app.use('/admin/*', options.requireAdmin)
  app.get('/admin/dead', async (c) => {
    const limit = Number(c.req.query('limit') ?? 100)
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > 1000) throw new IngestError('limit must be an integer from 1 to 1000', 'limit')
    const after = c.req.query('after') ?? '0'
    if (!/^\d{1,18}$/.test(after)) throw new IngestError('after must be a row id', 'after')
    return c.json({ rows: await options.leases.dead(limit, after) })
  })
  app.post('/admin/dead/retry', async (c) => c.json({ retried: await options.leases.retryDead() }))
  app.post('/admin/dead/:id/retry', async (c) => {
    const id = c.req.param('id')
    if (!/^\d{1,18}$/.test(id)) throw new IngestError('the row id must be a positive integer', 'id')
    const retried = await options.leases.retryDead(id)
    if (retried.length === 0) {
      const state = await options.leases.stateOf(id)
      throw state === undefined ? new RowStateError(`no raw row ${id}`, 404) : new RowStateError(`raw row ${id} is ${state}, not dead: only dead rows are retried`, 409)
    }
    return c.json({ retried })
  })
  // The page: '/' under the base is the base itself (redirected, so relative URLs resolve), '/*' the base with its slash.
  for (const [name, type] of Object.entries(PAGE_TYPES)) {
    if (name !== 'index.html') app.get(`/${name}`, (c) => c.body(options.page.get(name) ?? '', 200, { 'content-type': type, ...PAGE_SECURITY }))
  }
  app.get('/', (c) => c.redirect(`${c.req.path}/`, 301))
  app.get('/*', (c) => {
    if (!c.req.path.endsWith('/') || c.req.path.slice(0, -1).includes('/', 1)) return c.json({ error: `no page ${c.req.path}` }, 404)
    return c.body(options.page.get('index.html') ?? '', 200, { 'content-type': PAGE_TYPES['index.html']!, ...PAGE_SECURITY })
  })
  return app
}

export const PAGE_TYPES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'page.js': 'text/javascript; charset=utf-8',
  'page.css': 'text/css; charset=utf-8',
}

// The page sets every value as text; the policy keeps any injected markup inert as well.
const PAGE_SECURITY = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
}
