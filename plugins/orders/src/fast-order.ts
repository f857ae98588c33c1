// The schema's test of a valid order without zod's cost: zod builds a result, an issue list and
// a context per field, which for an order is most of what consuming it allocates. This checks the
// same rules (schema.ts) and builds the order as zod would (fields in the schema's order), or
// answers undefined, and then zod runs and names every problem. It may refuse what zod accepts
// (zod then decides), never the other way round: test/fast-order.test.ts holds the two together.
import { FORMAT_PATTERNS, ORDER_UID, type Delivery, type Item, type Order, type Payment } from './schema.ts'

type Input = Record<string, unknown>

const MAX_AMOUNT = Number.MAX_SAFE_INTEGER
const MAX_PAYMENT_DT = 253_402_300_799

const isObject = (value: unknown): value is Input => typeof value === 'object' && value !== null && !Array.isArray(value)
/** A string of at most `max` UTF-16 units (zod counts code points, so it allows as many or more). */
const isText = (value: unknown, max: number): value is string => typeof value === 'string' && value.length <= max
const isRequired = (value: unknown, max: number): value is string => typeof value === 'string' && value.length >= 1 && value.length <= max
const isInt = (value: unknown, max: number): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 && value <= max
const matches = (value: unknown, pattern: RegExp): value is string => typeof value === 'string' && pattern.test(value)
/** A format's pattern when formats are checked, else a string of at most `max` (schema.ts's `f`). */
const isFormat = (value: unknown, formats: boolean, pattern: RegExp, max: number): value is string => (formats ? matches(value, pattern) : isText(value, max))

/** True when `object` has no key outside the `count` known ones that were all read as present. */
function hasOnly(object: Input, count: number): boolean {
  let keys = 0
  for (const key in object) if (Object.hasOwn(object, key)) keys++
  return keys === count && Object.getPrototypeOf(object) === Object.prototype
}

function delivery(d: unknown, formats: boolean): Delivery | undefined {
  if (!isObject(d) || !hasOnly(d, 7)) return undefined
  const { name, phone, zip, city, address, region, email } = d
  if (!isRequired(name, 256) || !isRequired(zip, 32) || !isRequired(city, 128) || !isRequired(address, 512) || !isText(region, 128)) return undefined
  if (!isFormat(phone, formats, FORMAT_PATTERNS.phone, 32) || !isFormat(email, formats, FORMAT_PATTERNS.email, 256)) return undefined
  return { name, phone, zip, city, address, region, email }
}

function payment(p: unknown, formats: boolean): Payment | undefined {
  if (!isObject(p) || !hasOnly(p, 10)) return undefined
  const { transaction, request_id, currency, provider, amount, payment_dt, bank, delivery_cost, goods_total, custom_fee } = p
  if (!isRequired(transaction, 128) || !isText(request_id, 128) || !isRequired(provider, 64) || !isText(bank, 64)) return undefined
  if (!isFormat(currency, formats, FORMAT_PATTERNS.currency, 8)) return undefined
  if (!isInt(amount, MAX_AMOUNT) || !isInt(payment_dt, MAX_PAYMENT_DT) || !isInt(delivery_cost, MAX_AMOUNT) || !isInt(goods_total, MAX_AMOUNT) || !isInt(custom_fee, MAX_AMOUNT))
    return undefined
  return { transaction, request_id, currency, provider, amount, payment_dt, bank, delivery_cost, goods_total, custom_fee }
}

function item(i: unknown): Item | undefined {
  if (!isObject(i) || !hasOnly(i, 11)) return undefined
  const { chrt_id, track_number, price, rid, name, sale, size, total_price, nm_id, brand, status } = i
  if (!isRequired(track_number, 128) || !isRequired(rid, 128) || !isRequired(name, 512) || !isText(size, 32) || !isText(brand, 256)) return undefined
  if (!isInt(chrt_id, MAX_AMOUNT) || !isInt(price, MAX_AMOUNT) || !isInt(sale, 100) || !isInt(total_price, MAX_AMOUNT) || !isInt(nm_id, MAX_AMOUNT) || !isInt(status, 999))
    return undefined
  return { chrt_id, track_number, price, rid, name, sale, size, total_price, nm_id, brand, status }
}

/** The order as the schema's parse returns it when `input` passes every rule of it; else undefined. */
export function fastOrder(input: unknown, formats: boolean): Order | undefined {
  if (!isObject(input) || !hasOnly(input, 14)) return undefined
  const { order_uid, track_number, entry, locale, internal_signature, customer_id, delivery_service, shardkey, sm_id, date_created, oof_shard } = input
  if (!matches(order_uid, ORDER_UID) || !isRequired(track_number, 128) || !isRequired(entry, 64) || !isText(internal_signature, 512)) return undefined
  if (!isRequired(customer_id, 128) || !isRequired(delivery_service, 64) || !isText(shardkey, 16) || !isInt(sm_id, MAX_AMOUNT) || !isText(oof_shard, 16)) return undefined
  if (!isFormat(locale, formats, FORMAT_PATTERNS.locale, 35) || !isFormat(date_created, formats, FORMAT_PATTERNS.date, 64)) return undefined
  const d = delivery(input.delivery, formats)
  const p = d && payment(input.payment, formats)
  const list = input.items
  if (!p || !Array.isArray(list) || list.length < 1 || list.length > 1000) return undefined
  const items: Item[] = new Array(list.length)
  for (let i = 0; i < list.length; i++) {
    const parsed = item(list[i])
    if (!parsed) return undefined
    items[i] = parsed
  }
  return {
    order_uid,
    track_number,
    entry,
    delivery: d,
    payment: p,
    items,
    locale,
    internal_signature,
    customer_id,
    delivery_service,
    shardkey,
    sm_id,
    date_created,
    oof_shard,
  }
}
