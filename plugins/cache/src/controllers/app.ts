// The controllers assembled: body limit, error mapping, an ETag on every response.
import { Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import type { Cache } from '../cache.ts'
import { PreconditionFailedError } from '../errors.ts'
import { errorView } from '../views/json.ts'
import { adminRoutes } from './admin.ts'
import { documentRoutes, type MutationKind } from './documents.ts'
import { messageOf, statusOf } from './errors.ts'

export interface AppOptions {
  /** Largest accepted request body, in bytes. */
  maxBodyBytes: number
  onMutation?: (kind: MutationKind) => void
  /** Unexpected (500) errors; the client only sees "internal error". */
  onError?: (err: unknown) => void
}

export function createApp(cache: Pick<Cache, 'store' | 'stats'>, options: AppOptions): Hono {
  const { store } = cache
  const app = new Hono()

  // Responses without a document's ETag carry the store's sequence number as a weak
  // one. Set before the handler (which may replace it), not after: reading c.res
  // afterwards makes @hono/node-server build a full Response and lose its fast path.
  app.use(async (c, next) => {
    c.header('ETag', `W/"${store.seq}"`)
    await next()
  })
  // Only on methods with a body: bodyLimit reads c.req.raw.body, and touching the raw
  // request makes @hono/node-server build a full Request, costing GETs their fast path.
  app.on(
    ['POST', 'PUT', 'PATCH'],
    '*',
    bodyLimit({
      maxSize: options.maxBodyBytes,
      onError: (c) => c.json(errorView(`request body is larger than the limit of ${options.maxBodyBytes} bytes`), 413),
    }),
  )

  app.route('/', adminRoutes(cache))
  app.route('/', documentRoutes(store, options.onMutation))

  // A catch-all route rather than notFound(): a parent app that mounts this one (the
  // kernel does) answers unmatched paths with its own notFound, not ours.
  app.all('*', (c) => c.json(errorView(`no route for ${c.req.method} ${new URL(c.req.url).pathname}`), 404))
  app.onError((err, c) => {
    const status = statusOf(err)
    if (status === 500) options.onError?.(err)
    // A 412 tells the client which version is current, so it can retry without a GET.
    c.header('ETag', err instanceof PreconditionFailedError && err.actual ? err.actual : `W/"${store.seq}"`)
    return c.json(errorView(messageOf(err, status)), status)
  })
  return app
}
