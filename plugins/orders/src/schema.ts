// The order's shape, written once as a zod schema: fields, types and formats. The arithmetic
// between fields lives in arithmetic.ts, so each can be switched by the strictness option.
import { z } from 'zod'

/** An order uid: what the API accepts in a path or query, and what a stored order must carry. */
export const ORDER_UID = /^[A-Za-z0-9_-]{1,64}$/

const text = (max: number) => z.string().max(max)
const required = (max: number) => z.string().min(1).max(max)
/** Money and counts are integers (minor units), as in the canonical model. */
const amount = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER)
const id = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER)

// Formats: checked when strictness is 'formats' or 'full'; with 'types' a plain string passes.
const formats = {
  phone: z.string().regex(/^\+?[0-9]{7,15}$/, 'must be a phone number: an optional + and 7-15 digits'),
  email: z.email('must be an email address'),
  date: z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time with a time zone, e.g. 2021-11-26T06:22:19Z' }),
  currency: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code of three capital letters, e.g. USD'),
  locale: z.string().regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'must be a language tag, e.g. en or ru-RU'),
}

/** The pattern each format tests (zod's own for email and date-time): what fast-order.ts tests too. */
export const FORMAT_PATTERNS = {
  phone: patternOf(formats.phone),
  email: patternOf(formats.email),
  date: patternOf(formats.date),
  currency: patternOf(formats.currency),
  locale: patternOf(formats.locale),
}

function patternOf(format: z.ZodString | z.ZodStringFormat): RegExp {
  // A string format keeps its pattern in its definition; a .regex() keeps it in its one check.
  const own = (format._zod.def as { pattern?: RegExp }).pattern
  const check = (format._zod.def.checks?.[0]?._zod.def as { pattern?: RegExp } | undefined)?.pattern
  const pattern = own ?? check
  if (!pattern || pattern.global || pattern.sticky) throw new Error('a format without one plain pattern')
  return pattern
}

function schema(checkFormats: boolean) {
  const f = <T extends z.ZodType>(format: T, max: number) => (checkFormats ? format : text(max))
  const delivery = z.strictObject({
    name: required(256),
    phone: f(formats.phone, 32),
    zip: required(32),
    city: required(128),
    address: required(512),
    region: text(128),
    email: f(formats.email, 256),
  })
  const payment = z.strictObject({
    transaction: required(128),
    request_id: text(128),
    currency: f(formats.currency, 8),
    provider: required(64),
    amount,
    payment_dt: z.number().int().min(0).max(253_402_300_799), // unix seconds, up to year 9999
    bank: text(64),
    delivery_cost: amount,
    goods_total: amount,
    custom_fee: amount,
  })
  const item = z.strictObject({
    chrt_id: id,
    track_number: required(128),
    price: amount,
    rid: required(128),
    name: required(512),
    sale: z.number().int().min(0).max(100),
    size: text(32),
    total_price: amount,
    nm_id: id,
    brand: text(256),
    status: z.number().int().min(0).max(999),
  })
  return z.strictObject({
    order_uid: z.string().regex(ORDER_UID, 'must be letters, digits, _ or -, 1-64 characters'),
    track_number: required(128),
    entry: required(64),
    delivery,
    payment,
    items: z.array(item).min(1).max(1000),
    locale: f(formats.locale, 35),
    internal_signature: text(512),
    customer_id: required(128),
    delivery_service: required(64),
    shardkey: text(16),
    sm_id: id,
    date_created: f(formats.date, 64),
    oof_shard: text(16),
  })
}

export const strictSchema = schema(true)
export const looseFormatSchema = schema(false)

export type Order = z.infer<typeof strictSchema>
export type Delivery = Order['delivery']
export type Payment = Order['payment']
export type Item = Order['items'][number]
