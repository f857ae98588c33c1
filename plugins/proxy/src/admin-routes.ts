// The admin API, mounted at /proxy: register, list, inspect, re-route and delete servers.
// Every route needs the admin bearer token: the list reveals internal upstream addresses.
import { Hono, type Context, type MiddlewareHandler } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { BodyTooLargeError, ProxyError } from './errors.ts'
import type { ServerRegistry } from './registry.ts'

/** The 403 message while no admin token is configured. */
export const ADMIN_API_DISABLED = 'the proxy admin API is disabled: set ADMIN_TOKEN to enable it'

export interface AdminRoutesOptions {
  /** Guards every route (the kernel's bearer check on the admin token). */
  requireAdmin: MiddlewareHandler
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

  app.use('*', options.requireAdmin)
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
