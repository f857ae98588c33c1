// The kernel's own routes on the root app: health, readiness, metrics, plugin admin.
// Kernel.fetch sends every other path to the plugin dispatcher.
import { Hono, type MiddlewareHandler } from 'hono'
import { requireBearer } from './http/bearer.ts'
import { PLUGIN_NAME } from './plugin.ts'
import { consoleRoutes } from './console/routes.ts'
import type { KernelMetrics } from './metrics.ts'
import type { Logger } from 'pino'

/** What the kernel's own routes need of it, and nothing more. */
export interface AdminPort {
  log: Logger
  adminToken(): string | undefined
  metrics: Pick<KernelMetrics, 'render' | 'registry'>
  readiness(): { ready: boolean; reason: string }
  describe(): unknown
  stopPlan(): unknown
  reload(name: string, options: { force?: boolean; reason?: string }): Promise<{ status: string }>
}

/** The kernel's own routes: health, readiness, metrics, the plugin table and reloads, the console. */
export function admin(kernel: AdminPort): Hono {
  const app = new Hono()

  app.get('/healthz', (c) => c.text('ok'))

  app.get('/readyz', (c) => {
    const { ready, reason } = kernel.readiness()
    return c.json({ ready, reason }, ready ? 200 : 503)
  })

  app.get('/metrics', async (c) => {
    const body = await kernel.metrics.render()
    return c.body(body, 200, { 'content-type': kernel.metrics.registry.contentType })
  })

  app.get('/_armature/plugins', (c) => c.json(kernel.describe()))

  app.post('/_armature/plugins/:name/reload', requireAdmin(kernel), async (c) => {
    const name = c.req.param('name') ?? ''
    if (!PLUGIN_NAME.test(name)) return c.json({ error: `invalid plugin name ${JSON.stringify(name)}; names match [a-z0-9-]+` }, 400)
    const result = await kernel.reload(name, { force: true, reason: 'admin request' })
    if (result.status === 'missing') return c.json({ error: `no plugin named '${name}'` }, 404)
    if (result.status === 'failed') return c.json(result, 422)
    return c.json(result)
  })

  app.route('/', consoleRoutes(kernel))

  app.all('*', (c) => c.json({ error: `no route for ${c.req.method} ${c.req.path}` }, 404))

  app.onError((error, c) => {
    kernel.log.error({ err: error }, `unhandled error in ${c.req.method} ${c.req.path}: ${error.message}`)
    return c.json({ error: 'internal error' }, 500)
  })
  return app
}

/** State-changing admin routes need `Authorization: Bearer $ADMIN_TOKEN`. */
function requireAdmin(kernel: AdminPort): MiddlewareHandler {
  // Built on first use, from the token configured then.
  let check: MiddlewareHandler | undefined
  return (c, next) => (check ??= requireBearer(kernel.adminToken(), { disabled: 'admin routes are disabled: set ADMIN_TOKEN to enable them' }))(c, next)
}
