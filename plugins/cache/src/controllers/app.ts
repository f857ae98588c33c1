// The controllers assembled: routing, the API key, error mapping, an ETag on every response.
//
// The app has one route, `*`, and routes by hand below it. With Hono routes, a middleware
// and a catch-all, every request matched several handlers and went through Hono's async
// compose (and, for the app's own onError, one more compose per handler once mounted),
// so even a GET answered through promises. A single handler lets a read return its
// Response synchronously, which @hono/node-server writes out at once.
import { Hono, type Context } from 'hono'
import type { Cache } from '../cache.ts'
import { PreconditionFailedError } from '../errors.ts'
import { errorView } from '../views/json.ts'
import { AdminController } from './admin.ts'
import { DocumentController, type MutationKind, type ReadJson } from './documents.ts'
import { messageOf, statusOf } from './errors.ts'
import { headerOf } from './request.ts'
import { jsonResponse } from './respond.ts'

/** What the bearer check says of an `Authorization` header (the kernel's `checkBearer`, bound to the key). */
export type Authorize = (authorization: string | undefined) => 'ok' | 'disabled' | 'missing' | 'wrong'

export interface AppOptions {
  /** Reads a JSON body within the cache's limits. */
  readJson: ReadJson
  /** Guards writes, deletes and the dump (CACHE_API_KEY); without it they are open. */
  authorize?: Authorize
  onMutation?: (kind: MutationKind) => void
  /**
   * Keep each read document version's GET body and headers until the version is replaced
   * or deleted (default true). Costs about the document's JSON size again per read document.
   */
  cacheDocumentBodies?: boolean
  /** Unexpected (500) errors; the client only sees "internal error". */
  onError?: (err: unknown) => void
}

/** Thrown where no route matches; made once, so a miss captures no stack. */
const NO_ROUTE = new Error('no route')

export function createApp(cache: Pick<Cache, 'store' | 'stats'>, options: AppOptions): Hono {
  const { store } = cache
  const { authorize } = options
  const documents = new DocumentController(store, options.readJson, options.onMutation, options.cacheDocumentBodies ?? true)
  const admin = new AdminController(cache)

  const fail = (c: Context, err: unknown): Response => {
    if (err === NO_ROUTE) return jsonResponse(errorView(`no route for ${c.req.method} ${new URL(c.req.url).pathname}`), 404, `W/"${store.seq}"`)
    const status = statusOf(err)
    if (status === 500) options.onError?.(err)
    // A 412 tells the client which version is current, so it can retry without a GET.
    const etag = err instanceof PreconditionFailedError && err.actual ? err.actual : `W/"${store.seq}"`
    return jsonResponse(errorView(messageOf(err, status)), status, etag)
  }

  const unauthorized = (check: string): Response =>
    jsonResponse(errorView(check === 'wrong' ? 'wrong API key' : 'writes, deletes and the dump need Authorization: Bearer <CACHE_API_KEY>'), 401, `W/"${store.seq}"`, {
      'www-authenticate': 'Bearer',
    })

  /** `rest` is the path below the mount point: `/`, `/name` or `/collection/id`. */
  const route = (c: Context, method: string, rest: string): Response | Promise<Response> => {
    // Checked before names, bodies or routes are looked at: an unauthorised caller learns nothing.
    if (authorize && (method !== 'GET' || rest === '/_dump')) {
      const check = authorize(headerOf(c, 'authorization'))
      if (check !== 'ok') return unauthorized(check)
    }
    if (rest === '/') {
      if (method === 'GET') return admin.collections()
      throw NO_ROUTE
    }
    if (rest === '') throw NO_ROUTE
    const slash = rest.indexOf('/', 1)
    if (slash === -1) {
      const name = rest.slice(1)
      if (method === 'GET') {
        if (name === '_stats') return admin.stats()
        if (name === '_dump') return admin.dump()
        return documents.list(c, segment(name))
      }
      if (method === 'POST') return documents.create(c, segment(name))
      throw NO_ROUTE
    }
    const collection = rest.slice(1, slash)
    const id = rest.slice(slash + 1)
    if (collection === '' || id === '' || id.includes('/')) throw NO_ROUTE
    switch (method) {
      case 'GET':
        return documents.get(c, segment(collection), segment(id))
      case 'PUT':
        return documents.put(c, segment(collection), segment(id))
      case 'PATCH':
        return documents.patch(c, segment(collection), segment(id))
      case 'DELETE':
        return documents.delete(c, segment(collection), segment(id))
      default:
        throw NO_ROUTE
    }
  }

  const app = new Hono()
  app.all('*', (c) => {
    try {
      // Hono answers HEAD by running the GET handler and dropping the body.
      const method = c.req.method === 'HEAD' ? 'GET' : c.req.method
      const path = c.req.path
      const base = baseOf(c.req.routePath)
      if (base !== '' && !path.startsWith(base)) throw NO_ROUTE
      // The mounted root is `/cache`; `/cache/` is no route, as with Hono's strict routing.
      const rest = base === '' ? path : path.length === base.length ? '/' : path === base + '/' ? '' : path.slice(base.length)
      const res = route(c, method, rest)
      return res instanceof Promise ? res.catch((err: unknown) => fail(c, err)) : res
    } catch (err) {
      return fail(c, err)
    }
  })
  return app
}

/** Where this app is mounted: `/*` alone, `/cache/*` under the kernel. */
function baseOf(routePath: string): string {
  return routePath.endsWith('/*') ? routePath.slice(0, -2) : ''
}

/** A path segment decoded as Hono decodes route parameters. */
function segment(raw: string): string {
  if (!raw.includes('%')) return raw
  try {
    return decodeURIComponent(raw)
  } catch {
    return raw.replace(/(?:%[0-9A-Fa-f]{2})+/g, (match) => {
      try {
        return decodeURIComponent(match)
      } catch {
        return match
      }
    })
  }
}
