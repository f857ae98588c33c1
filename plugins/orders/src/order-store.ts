// Orders in PostgreSQL: written in one statement (so one transaction) that is idempotent by
// order_uid, and read back as the JSON they arrived as, key for key.
import { createHash } from 'node:crypto'
import type { QueryResult } from '@armature/plugin-db'
import type { Order } from './schema.ts'

/** What the store needs of the db plugin: one statement at a time. */
export interface OrderDatabase {
  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<QueryResult<R>>
}

/** `stored`: new; `duplicate`: the same order again (one row kept); `conflict`: the uid is stored with another payload. */
export type SaveOutcome = 'stored' | 'duplicate' | 'conflict'

/** An order as read back: its JSON text (as received, field for field) and when it was created. */
export interface StoredOrder {
  uid: string
  createdMs: number
  json: string
}

export interface OrderPage {
  orders: StoredOrder[]
  /** Pass as `cursor` for the next (older) page; absent on the last one. */
  next?: string
}

// A CTE is one statement, so one transaction: the order and its parts commit together or not at
// all, in one round trip. ON CONFLICT DO NOTHING makes a redelivery a no-op; the parts are
// inserted only for an order row this statement created.
const SAVE = `
WITH o AS (
  INSERT INTO orders (order_uid, track_number, entry, locale, internal_signature, customer_id, delivery_service, shardkey, sm_id, date_created, created_ms, oof_shard, payload_hash)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
  ON CONFLICT (order_uid) DO NOTHING
  RETURNING order_uid
), d AS (
  INSERT INTO deliveries (order_uid, name, phone, zip, city, address, region, email)
  SELECT order_uid, $14, $15, $16, $17, $18, $19, $20 FROM o
), p AS (
  INSERT INTO payments (order_uid, transaction, request_id, currency, provider, amount, payment_dt, bank, delivery_cost, goods_total, custom_fee)
  SELECT order_uid, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30 FROM o
), i AS (
  INSERT INTO items (order_uid, position, chrt_id, track_number, price, rid, name, sale, size, total_price, nm_id, brand, status)
  SELECT o.order_uid, x.position, x.chrt_id, x.track_number, x.price, x.rid, x.name, x.sale, x.size, x.total_price, x.nm_id, x.brand, x.status
  FROM o, jsonb_to_recordset($31::jsonb) AS x(position int, chrt_id bigint, track_number text, price bigint, rid text, name text, sale int, size text, total_price bigint, nm_id bigint, brand text, status int)
)
SELECT (SELECT count(*) FROM o)::int AS inserted`

const EXISTING = 'SELECT payload_hash FROM orders WHERE order_uid = $1'

// json_build_object keeps the keys in the order written here: the canonical model's order.
const ORDER_JSON = `json_build_object(
  'order_uid', o.order_uid, 'track_number', o.track_number, 'entry', o.entry,
  'delivery', json_build_object('name', d.name, 'phone', d.phone, 'zip', d.zip, 'city', d.city, 'address', d.address, 'region', d.region, 'email', d.email),
  'payment', json_build_object('transaction', p.transaction, 'request_id', p.request_id, 'currency', p.currency, 'provider', p.provider, 'amount', p.amount,
    'payment_dt', p.payment_dt, 'bank', p.bank, 'delivery_cost', p.delivery_cost, 'goods_total', p.goods_total, 'custom_fee', p.custom_fee),
  'items', (SELECT json_agg(json_build_object('chrt_id', i.chrt_id, 'track_number', i.track_number, 'price', i.price, 'rid', i.rid, 'name', i.name, 'sale', i.sale,
    'size', i.size, 'total_price', i.total_price, 'nm_id', i.nm_id, 'brand', i.brand, 'status', i.status) ORDER BY i.position) FROM items i WHERE i.order_uid = o.order_uid),
  'locale', o.locale, 'internal_signature', o.internal_signature, 'customer_id', o.customer_id, 'delivery_service', o.delivery_service,
  'shardkey', o.shardkey, 'sm_id', o.sm_id, 'date_created', o.date_created, 'oof_shard', o.oof_shard)::text`

const SELECT_ORDERS = `SELECT o.order_uid AS uid, o.created_ms::float8 AS created_ms, ${ORDER_JSON} AS doc
FROM orders o JOIN deliveries d ON d.order_uid = o.order_uid JOIN payments p ON p.order_uid = o.order_uid`

interface Row {
  uid: string
  created_ms: number
  doc: string
}

/** The most a list page or a warm-up returns in one query. */
export const MAX_PAGE = 1000

export class OrderStore {
  readonly #db: OrderDatabase

  constructor(db: OrderDatabase) {
    this.#db = db
  }

  /** Stores the order and its parts in one transaction, unless its uid is already stored. */
  async save(order: Order): Promise<SaveOutcome> {
    const hash = payloadHash(order)
    const { delivery: d, payment: p } = order
    const items = order.items.map((item, position) => ({ position, ...item }))
    const params = [
      order.order_uid,
      order.track_number,
      order.entry,
      order.locale,
      order.internal_signature,
      order.customer_id,
      order.delivery_service,
      order.shardkey,
      order.sm_id,
      order.date_created,
      createdMs(order),
      order.oof_shard,
      hash,
      d.name,
      d.phone,
      d.zip,
      d.city,
      d.address,
      d.region,
      d.email,
      p.transaction,
      p.request_id,
      p.currency,
      p.provider,
      p.amount,
      p.payment_dt,
      p.bank,
      p.delivery_cost,
      p.goods_total,
      p.custom_fee,
      JSON.stringify(items),
    ]
    const { rows } = await this.#db.query<{ inserted: number }>(SAVE, params)
    if (rows[0]!.inserted === 1) return 'stored'
    // Read after the statement, so a row committed by another consumer meanwhile is seen.
    const existing = await this.#db.query<{ payload_hash: string }>(EXISTING, [order.order_uid])
    return existing.rows[0]?.payload_hash === hash ? 'duplicate' : 'conflict'
  }

  async get(uid: string): Promise<StoredOrder | undefined> {
    const { rows } = await this.#db.query<Row>(`${SELECT_ORDERS} WHERE o.order_uid = $1`, [uid])
    return rows[0] && toStored(rows[0])
  }

  /** The newest `limit` orders by creation, newest first, in one query (the cache's warm-up). */
  async newest(limit: number): Promise<StoredOrder[]> {
    return (await this.page(limit)).orders
  }

  /** A page of orders, newest first; `cursor` from the previous page continues after it. */
  async page(limit: number, cursor?: string): Promise<OrderPage> {
    const after = cursor === undefined ? undefined : decodeCursor(cursor)
    const { rows } = after
      ? await this.#db.query<Row>(`${SELECT_ORDERS} WHERE (o.created_ms, o.order_uid) < ($2, $3) ORDER BY o.created_ms DESC, o.order_uid DESC LIMIT $1`, [
          limit,
          after.createdMs,
          after.uid,
        ])
      : await this.#db.query<Row>(`${SELECT_ORDERS} ORDER BY o.created_ms DESC, o.order_uid DESC LIMIT $1`, [limit])
    const orders = rows.map(toStored)
    const last = orders.at(-1)
    return orders.length === limit && last ? { orders, next: encodeCursor(last) } : { orders }
  }

  async count(): Promise<number> {
    const { rows } = await this.#db.query<{ n: number }>('SELECT count(*)::int AS n FROM orders')
    return rows[0]!.n
  }
}

/** sha256 of the validated order: its fields in the schema's order, so key order in the message does not matter. */
export function payloadHash(order: Order): string {
  return createHash('sha256').update(JSON.stringify(order)).digest('base64url')
}

/** When the order was created, in ms; an unparsable date_created (strictness `types`) sorts as the epoch. */
export function createdMs(order: Pick<Order, 'date_created'>): number {
  const ms = Date.parse(order.date_created)
  return Number.isFinite(ms) ? ms : 0
}

function toStored(row: Row): StoredOrder {
  // PostgreSQL's json text has spaces after colons; one parse and stringify makes it compact once, at read.
  return { uid: row.uid, createdMs: Number(row.created_ms), json: JSON.stringify(JSON.parse(row.doc)) }
}

export class InvalidCursorError extends Error {
  override name = 'InvalidCursorError'
  readonly status = 400
  readonly field = 'cursor'
  constructor(cursor: string) {
    super(`cursor ${JSON.stringify(cursor.slice(0, 80))} is not one this API returned`)
  }
}

function encodeCursor(order: StoredOrder): string {
  return Buffer.from(`${order.createdMs}:${order.uid}`).toString('base64url')
}

function decodeCursor(cursor: string): { createdMs: number; uid: string } {
  const text = Buffer.from(cursor, 'base64url').toString('utf8')
  const colon = text.indexOf(':')
  const createdMs = Number(text.slice(0, colon))
  const uid = text.slice(colon + 1)
  if (colon < 1 || !Number.isSafeInteger(createdMs) || uid.length === 0) throw new InvalidCursorError(cursor)
  return { createdMs, uid }
}
