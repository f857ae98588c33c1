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

// A CTE is one statement, so one transaction: every order of the batch and its parts commit
// together or not at all, in one round trip. ON CONFLICT DO NOTHING makes a redelivery a no-op;
// the parts are inserted only for the order rows this statement created.
const SAVE = `
WITH input AS (
  SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(order_uid text, track_number text, entry text, locale text, internal_signature text, customer_id text,
    delivery_service text, shardkey text, sm_id bigint, date_created text, created_ms bigint, oof_shard text, payload_hash text, delivery jsonb, payment jsonb, items jsonb)
), o AS (
  INSERT INTO orders (order_uid, track_number, entry, locale, internal_signature, customer_id, delivery_service, shardkey, sm_id, date_created, created_ms, oof_shard, payload_hash)
  SELECT order_uid, track_number, entry, locale, internal_signature, customer_id, delivery_service, shardkey, sm_id, date_created, created_ms, oof_shard, payload_hash FROM input
  ON CONFLICT (order_uid) DO NOTHING
  RETURNING order_uid
), d AS (
  INSERT INTO deliveries (order_uid, name, phone, zip, city, address, region, email)
  SELECT o.order_uid, x.name, x.phone, x.zip, x.city, x.address, x.region, x.email
  FROM o JOIN input i ON i.order_uid = o.order_uid, jsonb_to_record(i.delivery) AS x(name text, phone text, zip text, city text, address text, region text, email text)
), p AS (
  INSERT INTO payments (order_uid, transaction, request_id, currency, provider, amount, payment_dt, bank, delivery_cost, goods_total, custom_fee)
  SELECT o.order_uid, x.transaction, x.request_id, x.currency, x.provider, x.amount, x.payment_dt, x.bank, x.delivery_cost, x.goods_total, x.custom_fee
  FROM o JOIN input i ON i.order_uid = o.order_uid,
    jsonb_to_record(i.payment) AS x(transaction text, request_id text, currency text, provider text, amount bigint, payment_dt bigint, bank text, delivery_cost bigint, goods_total bigint, custom_fee bigint)
), it AS (
  INSERT INTO items (order_uid, position, chrt_id, track_number, price, rid, name, sale, size, total_price, nm_id, brand, status)
  SELECT o.order_uid, x.position, x.chrt_id, x.track_number, x.price, x.rid, x.name, x.sale, x.size, x.total_price, x.nm_id, x.brand, x.status
  FROM o JOIN input i ON i.order_uid = o.order_uid,
    jsonb_to_recordset(i.items) AS x(position int, chrt_id bigint, track_number text, price bigint, rid text, name text, sale int, size text, total_price bigint, nm_id bigint, brand text, status int)
)
SELECT order_uid FROM o`

const EXISTING = 'SELECT order_uid, payload_hash FROM orders WHERE order_uid = ANY($1::text[])'
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
    return (await this.saveMany([order]))[0]!
  }

  /**
   * Stores the orders and their parts in one transaction (one statement), each unless its uid
   * is already stored; the outcomes are in the orders' order. A uid twice in the batch is
   * written once: the later copy is a duplicate or a conflict of the first.
   */
  async saveMany(orders: readonly Order[]): Promise<SaveOutcome[]> {
    const hashes = orders.map(payloadHash)
    const first = new Map<string, number>()
    orders.forEach((order, i) => first.has(order.order_uid) || first.set(order.order_uid, i))
    const rows = [...first.values()].map((i) => {
      const order = orders[i]!
      return { ...order, created_ms: createdMs(order), payload_hash: hashes[i], items: order.items.map((item, position) => ({ position, ...item })) }
    })
    const { rows: inserted } = await this.#db.query<{ order_uid: string }>(SAVE, [JSON.stringify(rows)])
    const created = new Set(inserted.map((r) => r.order_uid))
    const others = orders.map((o) => o.order_uid).filter((uid) => !created.has(uid))
    // Read after the statement, so a row committed by another consumer meanwhile is seen.
    const existing = new Map<string, string>()
    if (others.length > 0) {
      const { rows: found } = await this.#db.query<{ order_uid: string; payload_hash: string }>(EXISTING, [[...new Set(others)]])
      for (const row of found) existing.set(row.order_uid, row.payload_hash)
    }
    return orders.map((order, i) => {
      const uid = order.order_uid
      if (created.has(uid) && first.get(uid) === i) return 'stored'
      const stored = created.has(uid) ? hashes[first.get(uid)!] : existing.get(uid)
      return stored === hashes[i] ? 'duplicate' : 'conflict'
    })
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
