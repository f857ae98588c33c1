// The admin API, mounted at /proxy: register, list, inspect, re-route and delete servers.
// Every route needs the admin bearer token: the list reveals internal upstream addresses.
import { timingSafeEqual } from 'node:crypto'
import { Hono, type Context } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { BodyTooLargeError, ProxyError } from './errors.ts'
import type { ServerRegistry } from './registry.ts'

export interface AdminRoutesOptions {
  /** When unset every route answers 403. */
  adminToken: string | undefined
  /** Largest admin request body. */
  maxBodyBytes: number
  /** Logs errors that are the proxy's fault (5xx). */
  onInternalError(error: Error): void
}

/**
 * POST   /servers          register and start a server -> 201 with its address
 * GET    /servers          every server: address, state, counters, upstream health
 * GET    /servers/:name    one server
 * PATCH  /servers/:name    { routes }: swap its routes without dropping connections
 * DELETE /servers/:name    drain and forget it
 */
export function adminRoutes(registry: ServerRegistry, options: AdminRoutesOptions): Hono {
  const app = new Hono()

  app.use('*', async (c, next) => {
    const token = options.adminToken
    if (!token) return c.json({ error: 'the proxy admin API is disabled: set ADMIN_TOKEN to enable it' }, 403)
    const header = c.req.header('authorization') ?? ''
    const given = header.startsWith('Bearer ') ? header.slice(7) : ''
    if (!safeEqual(given, token)) return c.json({ error: 'missing or wrong bearer token' }, 401, { 'www-authenticate': 'Bearer' })
    await next()
  })
  const limit = bodyLimit({
    maxSize: options.maxBodyBytes,
    onError: (c) => c.json({ error: new BodyTooLargeError(options.maxBodyBytes).message }, 413),
  })

  app.post('/servers', limit, async (c) => c.json(await registry.create(await jsonBody(c)), 201))
  app.get('/servers', (c) => c.json({ servers: registry.list() }))
  app.get('/servers/:name', (c) => c.json(registry.get(c.req.param('name'))))
  app.patch('/servers/:name', limit, async (c) => c.json(await registry.update(c.req.param('name'), await jsonBody(c))))
  app.delete('/servers/:name', async (c) => c.json(await registry.remove(c.req.param('name'))))

  app.onError((error, c) => {
    if (error instanceof ProxyError) {
      if (error.status >= 500) options.onInternalError(error)
      return c.json({ error: error.message, ...('field' in error ? { field: error.field } : {}) }, error.status as 400)
    }
    options.onInternalError(error)
    return c.json({ error: 'internal error' }, 500)
  })
  return app
}

async function jsonBody(c: Context): Promise<unknown> {
  const type = c.req.header('content-type') ?? ''
  if (!/^application\/json\b/i.test(type)) throw new ProxyError(`Content-Type must be application/json, not ${JSON.stringify(type)}`, 415)
  const text = await c.req.text()
  try {
    return JSON.parse(text)
  } catch (error) {
    throw new ProxyError(`body is not valid JSON: ${(error as Error).message}`, 400)
  }
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}
