// Realistic fake orders (@faker-js/faker) that satisfy the model's arithmetic, and broken ones
// that each fail validation in a known way.
import type { Faker } from '@faker-js/faker'
import { itemTotal } from './arithmetic.ts'
import type { Item, Order } from './schema.ts'

export function fakeOrder(faker: Faker, now = new Date()): Order {
  const uid = faker.string.alphanumeric({ length: 20, casing: 'lower' })
  const track = `WB${faker.string.alpha({ length: 12, casing: 'upper' })}`
  const items: Item[] = Array.from({ length: faker.number.int({ min: 1, max: 4 }) }, () => {
    const price = faker.number.int({ min: 50, max: 20_000 })
    const sale = faker.helpers.arrayElement([0, 0, 10, 15, 25, 30, 50, 70])
    return {
      chrt_id: faker.number.int({ min: 1_000_000, max: 99_999_999 }),
      track_number: track,
      price,
      rid: faker.string.hexadecimal({ length: 21, casing: 'lower', prefix: '' }),
      name: faker.commerce.productName(),
      sale,
      size: faker.helpers.arrayElement(['0', 'S', 'M', 'L', 'XL', '42']),
      total_price: itemTotal({ price, sale }),
      nm_id: faker.number.int({ min: 100_000, max: 9_999_999 }),
      brand: faker.company.name(),
      status: faker.helpers.arrayElement([202, 200, 201]),
    }
  })
  const goodsTotal = items.reduce((sum, item) => sum + item.total_price, 0)
  const deliveryCost = faker.number.int({ min: 0, max: 2000 })
  const customFee = faker.helpers.arrayElement([0, 0, 0, faker.number.int({ min: 1, max: 500 })])
  return {
    order_uid: uid,
    track_number: track,
    entry: 'WBIL',
    delivery: {
      name: faker.person.fullName(),
      phone: `+${faker.string.numeric({ length: 11, allowLeadingZeros: false })}`,
      zip: faker.string.numeric(6),
      city: faker.location.city(),
      address: faker.location.streetAddress(),
      region: faker.location.state(),
      email: faker.internet.email().toLowerCase(),
    },
    payment: {
      transaction: uid,
      request_id: '',
      currency: faker.helpers.arrayElement(['USD', 'EUR', 'RUB']),
      provider: 'wbpay',
      amount: goodsTotal + deliveryCost + customFee,
      payment_dt: Math.floor(now.getTime() / 1000),
      bank: faker.helpers.arrayElement(['alpha', 'sber', 'tinkoff', 'vtb']),
      delivery_cost: deliveryCost,
      goods_total: goodsTotal,
      custom_fee: customFee,
    },
    items,
    locale: faker.helpers.arrayElement(['en', 'ru']),
    internal_signature: '',
    customer_id: faker.string.alphanumeric({ length: 8, casing: 'lower' }),
    delivery_service: faker.helpers.arrayElement(['meest', 'cdek', 'boxberry', 'dhl']),
    shardkey: String(faker.number.int({ min: 0, max: 9 })),
    sm_id: faker.number.int({ min: 1, max: 100 }),
    date_created: now.toISOString(),
    oof_shard: String(faker.number.int({ min: 1, max: 2 })),
  }
}

/** Ways an order is broken on purpose, each caught by validation at strictness `full`. */
const BREAKS: Array<(order: Order) => unknown> = [
  (o) => ({ ...o, delivery: { ...o.delivery, email: 'not-an-email' } }),
  (o) => ({ ...o, payment: { ...o.payment, amount: o.payment.amount + 1 } }),
  (o) => ({ ...o, items: o.items.map((item, i) => (i === 0 ? { ...item, total_price: item.total_price + 1 } : item)) }),
  (o) => ({ ...o, date_created: 'yesterday' }),
  (o) => ({ ...o, delivery: undefined }),
  (o) => ({ ...o, sm_id: String(o.sm_id) }),
]

/** A broken variant of a valid order (its uid kept when the break leaves it). */
export function fakeInvalidOrder(faker: Faker, now = new Date()): unknown {
  return faker.helpers.arrayElement(BREAKS)(fakeOrder(faker, now))
}
