// The JSON API under /api: the seed's getOrder (uid in the query or in a GET's JSON body), one
// order by uid, and pages of the newest orders. An order is answered as its stored JSON text.
import { Hono, type Context } from 'hono'
import { InvalidLimitError, InvalidUidError, OrderNotFoundError } from './errors.ts'
import type { CachedOrder } from './order-cache.ts'
import type { OrderReader } from './order-reader.ts'
import { MAX_PAGE, type OrderStore } from './order-store.ts'
import { ORDER_UID } from './schema.ts'

export interface ApiOptions {
  reader: OrderReader
  store: Pick<OrderStore, 'page'>
  /** The request body as JSON (the kernel's bounded reader); undefined when there is none. */
  readJson: (c: Context) => Promise<unknown>
  defaultPageSize: number
}

const JSON_TYPE = 'application/json; charset=utf-8'

export function apiRoutes(options: ApiOptions): Hono {
  const { reader } = options

  const answer = (order: CachedOrder | undefined, uid: string, hit: boolean): Response => {
    if (!order) throw new OrderNotFoundError(uid)
    // The cached bytes and a plain header object with their length: the node adapter writes them
    // as they are (c.body would build a Headers object, and a string body would be encoded again).
    return new Response(order.body as Uint8Array<ArrayBuffer>, {
      status: 200,
      headers: { 'content-type': JSON_TYPE, 'content-length': order.contentLength, 'x-cache': hit ? 'hit' : 'miss' },
    })
  }
  // A hit answers without a promise: the cached path is as short as the kernel's own routes.
  // Only stored uids are cached, so a hit needs no check of the uid; a miss is checked first.
  const serve = (field: string, uid: unknown): Response | Promise<Response> => {
    const cached = typeof uid === 'string' ? reader.cached(uid) : undefined
    if (cached) return answer(cached, cached.uid, true)
    const checked = checkUid(field, uid)
    return reader.read(checked).then(({ order, hit }) => answer(order, checked, hit))
  }

  return new Hono()
    .get('/getOrder', async (c) => {
      // As the seed does: the query first, then a JSON body, which a GET may carry.
      let uid: unknown = c.req.query('OrderUID')
      if (uid === undefined && hasBody(c)) {
        const body = await options.readJson(c)
        if (body && typeof body === 'object' && !Array.isArray(body)) uid = (body as Record<string, unknown>).OrderUID
      }
      return serve('OrderUID', uid)
    })
    .get('/orders/:uid', (c) => serve('uid', c.req.param('uid')))
    .get('/orders', async (c) => {
      const limitText = c.req.query('limit')
      const limit = limitText === undefined ? options.defaultPageSize : Number(limitText)
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) throw new InvalidLimitError(limitText ?? '', MAX_PAGE)
      const page = await options.store.page(limit, c.req.query('cursor') || undefined)
      const next = page.next === undefined ? '' : `,"next":${JSON.stringify(page.next)}`
      return c.body(`{"orders":[${page.orders.map((o) => o.json).join(',')}]${next}}`, 200, { 'content-type': JSON_TYPE })
    })
}

function checkUid(field: string, uid: unknown): string {
  if (typeof uid !== 'string' || !ORDER_UID.test(uid)) throw new InvalidUidError(field, uid)
  return uid
}

function hasBody(c: Context): boolean {
  const length = c.req.header('content-length')
  return (length !== undefined && length !== '0') || c.req.header('transfer-encoding') !== undefined
}
