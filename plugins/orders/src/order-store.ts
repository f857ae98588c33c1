// Orders in PostgreSQL: written in one statement (so one transaction) that is idempotent by
// order_uid, and read back as the JSON they arrived as, key for key.
import type { QueryResult } from '@armature/plugin-db'
import { IntArray, TextArray } from './pg-array.ts'
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
// the parts are inserted only for the order rows this statement created. The batch travels as
// one array per column (unnest): cheaper for PostgreSQL to read than a JSON document of orders.
const SAVE = `
WITH o AS (
  INSERT INTO orders (order_uid, track_number, entry, locale, internal_signature, customer_id, delivery_service, shardkey, sm_id, date_created, created_ms, oof_shard)
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::bigint[], $10::text[], $11::bigint[], $12::text[])
  ON CONFLICT (order_uid) DO NOTHING
  RETURNING order_uid
), d AS (
  INSERT INTO deliveries (order_uid, name, phone, zip, city, address, region, email)
  SELECT x.* FROM unnest($1::text[], $13::text[], $14::text[], $15::text[], $16::text[], $17::text[], $18::text[], $19::text[]) AS x(order_uid, name, phone, zip, city, address, region, email)
  JOIN o USING (order_uid)
), p AS (
  INSERT INTO payments (order_uid, transaction, request_id, currency, provider, amount, payment_dt, bank, delivery_cost, goods_total, custom_fee)
  SELECT x.* FROM unnest($1::text[], $20::text[], $21::text[], $22::text[], $23::text[], $24::bigint[], $25::bigint[], $26::text[], $27::bigint[], $28::bigint[], $29::bigint[])
    AS x(order_uid, transaction, request_id, currency, provider, amount, payment_dt, bank, delivery_cost, goods_total, custom_fee)
  JOIN o USING (order_uid)
), it AS (
  INSERT INTO items (order_uid, position, chrt_id, track_number, price, rid, name, sale, size, total_price, nm_id, brand, status)
  SELECT x.* FROM unnest($30::text[], $31::int[], $32::bigint[], $33::text[], $34::bigint[], $35::text[], $36::text[], $37::int[], $38::text[], $39::bigint[], $40::bigint[], $41::text[], $42::int[])
    AS x(order_uid, position, chrt_id, track_number, price, rid, name, sale, size, total_price, nm_id, brand, status)
  JOIN o USING (order_uid)
)
SELECT order_uid FROM o`

/** The statement's parameters: one array literal per column, in SAVE's order (pg-array.ts). */
function saveParams(orders: readonly PreparedOrder[]): string[] {
  const t = () => new TextArray()
  const n = () => new IntArray()
  const order = {
    uid: t(),
    track: t(),
    entry: t(),
    locale: t(),
    signature: t(),
    customer: t(),
    service: t(),
    shardkey: t(),
    smId: n(),
    date: t(),
    createdMs: n(),
    oofShard: t(),
  }
  const delivery = { name: t(), phone: t(), zip: t(), city: t(), address: t(), region: t(), email: t() }
  const payment = { transaction: t(), requestId: t(), currency: t(), provider: t(), amount: n(), paymentDt: n(), bank: t(), deliveryCost: n(), goodsTotal: n(), customFee: n() }
  const item = { uid: t(), position: n(), chrtId: n(), track: t(), price: n(), rid: t(), name: t(), sale: n(), size: t(), totalPrice: n(), nmId: n(), brand: t(), status: n() }
  for (const { order: o, createdMs } of orders) {
    order.uid.push(o.order_uid)
    order.track.push(o.track_number)
    order.entry.push(o.entry)
    order.locale.push(o.locale)
    order.signature.push(o.internal_signature)
    order.customer.push(o.customer_id)
    order.service.push(o.delivery_service)
    order.shardkey.push(o.shardkey)
    order.smId.push(o.sm_id)
    order.date.push(o.date_created)
    order.createdMs.push(createdMs)
    order.oofShard.push(o.oof_shard)
    const d = o.delivery
    delivery.name.push(d.name)
    delivery.phone.push(d.phone)
    delivery.zip.push(d.zip)
    delivery.city.push(d.city)
    delivery.address.push(d.address)
    delivery.region.push(d.region)
    delivery.email.push(d.email)
    const p = o.payment
    payment.transaction.push(p.transaction)
    payment.requestId.push(p.request_id)
    payment.currency.push(p.currency)
    payment.provider.push(p.provider)
    payment.amount.push(p.amount)
    payment.paymentDt.push(p.payment_dt)
    payment.bank.push(p.bank)
    payment.deliveryCost.push(p.delivery_cost)
    payment.goodsTotal.push(p.goods_total)
    payment.customFee.push(p.custom_fee)
    for (let position = 0; position < o.items.length; position++) {
      const it = o.items[position]!
      item.uid.push(o.order_uid)
      item.position.push(position)
      item.chrtId.push(it.chrt_id)
      item.track.push(it.track_number)
      item.price.push(it.price)
      item.rid.push(it.rid)
      item.name.push(it.name)
      item.sale.push(it.sale)
      item.size.push(it.size)
      item.totalPrice.push(it.total_price)
      item.nmId.push(it.nm_id)
      item.brand.push(it.brand)
      item.status.push(it.status)
    }
  }
  return [...Object.values(order), ...Object.values(delivery), ...Object.values(payment), ...Object.values(item)].map(String)
}

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
  async save(order: PreparedOrder): Promise<SaveOutcome> {
    return (await this.saveMany([order]))[0]!
  }

  /**
   * Stores the orders and their parts in one transaction (one statement), each unless its uid
   * is already stored; the outcomes are in the orders' order. A uid twice in the batch is
   * written once: the later copy is a duplicate or a conflict of the first.
   */
  async saveMany(orders: readonly PreparedOrder[]): Promise<SaveOutcome[]> {
    const first = new Map<string, number>()
    orders.forEach(({ order }, i) => first.has(order.order_uid) || first.set(order.order_uid, i))
    const unique = first.size === orders.length ? orders : [...first.values()].map((i) => orders[i]!)
    const { rows: inserted } = await this.#db.query<{ order_uid: string }>(SAVE, saveParams(unique))
    const created = new Set(inserted.map((r) => r.order_uid))
    const others = orders.map((o) => o.order.order_uid).filter((uid) => !created.has(uid))
    // Only a uid already stored is compared, with the order as stored (the JSON a read answers):
    // read after the statement, so a row committed by another consumer meanwhile is seen.
    const existing = new Map<string, string>()
    if (others.length > 0) for (const order of await this.getMany([...new Set(others)])) existing.set(order.uid, order.json)
    return orders.map(({ order, json }, i) => {
      const uid = order.order_uid
      if (created.has(uid) && first.get(uid) === i) return 'stored'
      const stored = created.has(uid) ? orders[first.get(uid)!]!.json : existing.get(uid)
      return stored === json ? 'duplicate' : 'conflict'
    })
  }

  async get(uid: string): Promise<StoredOrder | undefined> {
    const { rows } = await this.#db.query<Row>(`${SELECT_ORDERS} WHERE o.order_uid = $1`, [uid])
    return rows[0] && toStored(rows[0])
  }

  /** The orders of these uids that are stored, in one query. */
  async getMany(uids: readonly string[]): Promise<StoredOrder[]> {
    if (uids.length === 0) return []
    const { rows } = await this.#db.query<Row>(`${SELECT_ORDERS} WHERE o.order_uid = ANY($1::text[]) ORDER BY o.created_ms, o.order_uid`, [uids])
    return rows.map(toStored)
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

/**
 * A validated order with what is derived from it once: its JSON text (fields in the schema's
 * order, so key order in the message does not matter; what is cached, answered, and compared
 * with the stored order when its uid is already stored) and its creation time.
 */
export interface PreparedOrder {
  readonly order: Order
  readonly json: string
  readonly createdMs: number
}

export function prepareOrder(order: Order): PreparedOrder {
  return { order, json: JSON.stringify(order), createdMs: createdMs(order) }
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
