// The domain alone: validation and arithmetic, the bounded cache's two evictions, coalesced loads.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { itemTotal, OrderCache, OrderReader, parseOrder, SingleFlight, validateOrder, type StoredOrder } from '../src/index.ts'
import { MODEL } from './support.ts'

const order = (uid: string, createdMs: number, size = 10): StoredOrder => ({ uid, createdMs, json: JSON.stringify({ uid, pad: 'x'.repeat(size) }) })

test('the canonical model is valid at every strictness', () => {
  for (const strictness of ['full', 'formats', 'types'] as const) assert.ok(validateOrder(MODEL, strictness).ok, strictness)
})

test('an item total is floor(price x (100 - sale) / 100)', () => {
  assert.is(itemTotal({ price: 453, sale: 30 }), 317)
  assert.is(itemTotal({ price: 100, sale: 0 }), 100)
  assert.is(itemTotal({ price: 999, sale: 100 }), 0)
})

test('strictness: arithmetic only under full, formats under full and formats', () => {
  const wrongSum = { ...MODEL, payment: { ...MODEL.payment, amount: 1818 } }
  assert.not.ok(validateOrder(wrongSum, 'full').ok)
  assert.ok(validateOrder(wrongSum, 'formats').ok)
  const badEmail = { ...MODEL, delivery: { ...MODEL.delivery, email: 'nope' } }
  assert.not.ok(validateOrder(badEmail, 'formats').ok)
  assert.ok(validateOrder(badEmail, 'types').ok)
  const wrongType = { ...MODEL, sm_id: '99' }
  assert.not.ok(validateOrder(wrongType, 'types').ok)
})

test('every failing field is reported, formats and arithmetic together', () => {
  const result = validateOrder({ ...MODEL, date_created: 'yesterday', items: [{ ...MODEL.items[0], sale: 101 }], payment: { ...MODEL.payment, goods_total: 1 } })
  assert.is(result.ok, false)
  const paths = result.ok ? [] : result.problems.map((p) => p.path)
  assert.equal(paths.sort(), ['date_created', 'items.0.sale', 'items.0.total_price', 'payment.amount', 'payment.goods_total'].sort())
  const missing = validateOrder({ ...MODEL, delivery: undefined, order_uid: 'has space' })
  assert.equal(missing.ok ? [] : missing.problems.map((p) => p.path).sort(), ['delivery', 'order_uid'])
  const notJson = parseOrder('<xml/>')
  assert.match(notJson.ok ? '' : notJson.problems[0]!.message, /not JSON/)
})

test('creation eviction keeps the newest by date_created, whatever the arrival order', () => {
  const cache = new OrderCache({ maxEntries: 3, maxBytes: 1 << 20, eviction: 'creation' })
  for (const [uid, ms] of [
    ['c', 3],
    ['a', 1],
    ['e', 5],
    ['b', 2],
    ['d', 4],
  ] as const)
    cache.set(order(uid, ms))
  assert.equal(cache.keys(), ['c', 'd', 'e'])
  assert.is(cache.set(order('old', 0)), false, 'an order older than every cached one when full is not kept')
  cache.get('c')
  cache.set(order('f', 6))
  assert.equal(cache.keys(), ['d', 'e', 'f'], 'a read does not save the oldest')
  assert.is(cache.evictions, 4)
})

test('lru eviction drops the least recently read', () => {
  const cache = new OrderCache({ maxEntries: 3, maxBytes: 1 << 20, eviction: 'lru' })
  for (const uid of ['a', 'b', 'c']) cache.set(order(uid, 1))
  cache.get('a')
  cache.set(order('d', 9))
  assert.equal(cache.keys(), ['c', 'a', 'd'])
})

test('the byte budget bounds the cache as well as the count', () => {
  const cache = new OrderCache({ maxEntries: 100, maxBytes: 100, eviction: 'creation' })
  for (let i = 0; i < 10; i++) cache.set(order(`o${i}`, i, 20))
  assert.ok(cache.bytes <= 100, `${cache.bytes} bytes`)
  assert.ok(cache.size < 10 && cache.size > 0)
  assert.ok(cache.keys().includes('o9'))
  assert.is(cache.set(order('huge', 99, 200)), false, 'an order larger than the whole budget is not cached')
  cache.delete('o9')
  assert.is(cache.bytes, [...cache.keys()].length * Buffer.byteLength(order('o0', 0, 20).json))
})

test('a miss storm for one uid is one load, and the loaded order is cached', async () => {
  let loads = 0
  let release!: () => void
  const gate = new Promise<void>((r) => (release = r))
  const store = {
    async get(uid: string) {
      loads++
      await gate
      return order(uid, 1)
    },
  }
  const reader = new OrderReader(new OrderCache({ maxEntries: 10, maxBytes: 1 << 20, eviction: 'lru' }), store)
  const reads = Array.from({ length: 50 }, () => reader.read('x'))
  release()
  const results = await Promise.all(reads)
  assert.is(loads, 1)
  assert.ok(results.every((r) => r.order?.uid === 'x' && !r.hit))
  assert.is((await reader.read('x')).hit, true)
  assert.is(loads, 1)
})

test('a failed load is not shared with the next caller', async () => {
  const flight = new SingleFlight<string, number>()
  await flight.run('k', () => Promise.reject(new Error('down'))).catch(() => undefined)
  assert.is(await flight.run('k', async () => 7), 7)
})

test.run()
