// The admin API, mounted at /proxy: register, list, inspect, re-route and delete servers.
// Every route needs the admin bearer token: the list reveals internal upstream addresses.
// Errors carry their status (ProxyError and its kind, a 503 for a database outage): the
// kernel's plugin mount answers them as JSON `{ error, field? }` and logs the 5xx ones.
import { Hono, type Context, type MiddlewareHandler } from 'hono'
import type { ServerRegistry } from './registry.ts'

/** The 403 message while no admin token is configured. */
export const ADMIN_API_DISABLED = 'the proxy admin API is disabled: set ADMIN_TOKEN to enable it'

export interface AdminRoutesOptions {
  /** Guards every route (the kernel's bearer check on the admin token). */
  requireAdmin: MiddlewareHandler
  /** Reads a JSON body within the admin body limit (the kernel's `ctx.http.readJson`): 413, 415 and 400 are its answers. */
  readJson(c: Context): Promise<unknown>
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
  const { readJson } = options

  app.use('*', options.requireAdmin)
  app.post('/servers', async (c) => c.json(await registry.create(await readJson(c)), 201))
  app.get('/servers', (c) => c.json({ servers: registry.list() }))
  app.get('/servers/:name', (c) => c.json(registry.get(c.req.param('name'))))
  app.patch('/servers/:name', async (c) => c.json(await registry.update(c.req.param('name'), await readJson(c))))
  app.delete('/servers/:name', async (c) => c.json(await registry.remove(c.req.param('name'))))
  return app
}
