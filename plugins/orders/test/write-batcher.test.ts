// The write batcher over a real OrderStore on PostgreSQL (no kernel): orders handed in while a
// write runs go together in one transaction; duplicates within a batch are one row; a conflict
// or an order the database refuses fails alone; an outage fails the batch whole, and the
// consumer's retry stores it once the database answers again.
import { tmpdir } from 'node:os'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { isUnavailable, openDatabase, type OpenDatabase } from '@armature/plugin-db'
import { startTcpProxy, waitFor } from '@armature/testing'
import { MIGRATIONS, OrderConsumer, OrderStore, prepareOrder, WriteBatcher, type Order, type PreparedOrder, type SaveOutcome } from '../src/index.ts'
import { createTestDatabase, orderLike, rowCounts, type TestDatabase } from './support.ts'

async function open(url: string): Promise<OpenDatabase> {
  const opened = await openDatabase({ url, dataDir: tmpdir(), poolSize: 4, connectTimeoutMs: 1000 })
  await opened.database.migrate('orders', MIGRATIONS)
  return opened
}

const prepared = (uid: string, change: Partial<Order> = {}): PreparedOrder => prepareOrder({ ...(orderLike(uid) as Order), ...change })

/** One save to occupy the only writer, so everything handed in meanwhile is written as one batch. */
async function asOneBatch(batcher: WriteBatcher, orders: PreparedOrder[]): Promise<SaveOutcome[]> {
  const first = batcher.save(prepared(`occupy-${Math.random().toString(36).slice(2)}`))
  const before = batcher.batches
  const outcomes = Promise.all(orders.map((o) => batcher.save(o)))
  await first
  const result = await outcomes
  assert.is(batcher.batches - before, 1, 'the orders handed in during a write went as one batch')
  return result
}

let database: TestDatabase
let opened: OpenDatabase

test.before(async () => {
  database = await createTestDatabase()
  opened = await open(database.url)
})

test.after(async () => {
  await opened?.close()
  await database?.drop()
})

test('strings an array literal must quote or escape are stored and read back as they came', async () => {
  const awkward = ['', 'NULL', 'a"quote', 'back\\slash', '{braces}', 'comma, space', ' lead and trail ', 'new\nline', 'ünïcødé 😀', '\\"']
  const orders = awkward.map((text, i) => {
    const base = orderLike(`awkward-${i}`) as Order
    return prepareOrder({
      ...base,
      internal_signature: text,
      delivery: { ...base.delivery, region: text },
      items: base.items.map((item) => ({ ...item, brand: text, size: text.slice(0, 32) })),
    })
  })
  const store = new OrderStore(opened.database)
  assert.equal(
    await store.saveMany(orders),
    orders.map(() => 'stored'),
  )
  for (const order of orders) assert.is((await store.get(order.order.order_uid))?.json, order.json, JSON.stringify(order.order.internal_signature))
  // The same again: duplicates, found by the stored payload.
  assert.equal(
    await store.saveMany(orders),
    orders.map(() => 'duplicate'),
  )
})

test('a uid several times in one batch is one row: stored, then duplicates, and a changed payload a conflict', async () => {
  const batcher = new WriteBatcher(new OrderStore(opened.database), { maxBatch: 100, maxConcurrentWrites: 1, isUnavailable })
  const order = prepared('twice-in-a-batch')
  const changed = prepared('twice-in-a-batch', { customer_id: 'someone-else' })
  const before = await rowCounts(database.url)
  const outcomes = await asOneBatch(batcher, [order, order, changed, prepared('beside-it')])
  assert.equal(outcomes, ['stored', 'duplicate', 'conflict', 'stored'])
  const after = await rowCounts(database.url)
  // Two new orders (plus the one that occupied the writer), each whole.
  assert.equal(after.orders - before.orders, 3)
  assert.equal(after.deliveries - before.deliveries, 3)
  assert.equal(after.items - before.items, 3 * (orderLike('x').items as unknown[]).length)
})

test('a conflict with a stored order and an order the database refuses fail alone; the rest of the batch is stored', async () => {
  const batcher = new WriteBatcher(new OrderStore(opened.database), { maxBatch: 100, maxConcurrentWrites: 1, isUnavailable })
  assert.is(await batcher.save(prepared('stored-before')), 'stored')
  // PostgreSQL text cannot hold a NUL character: the statement fails, whatever else it carries.
  const refused = prepared('refused-by-postgres', { customer_id: 'nul\u0000inside' })
  const others = Array.from({ length: 5 }, (_, i) => prepared(`next-to-trouble-${i}`))
  const settled = await (async () => {
    const first = batcher.save(prepared('occupy-2'))
    const all = Promise.allSettled([prepared('stored-before', { customer_id: 'changed' }), refused, ...others].map((o) => batcher.save(o)))
    await first
    return all
  })()
  assert.equal(settled[0], { status: 'fulfilled', value: 'conflict' })
  assert.is(settled[1]!.status, 'rejected')
  assert.match(String((settled[1] as PromiseRejectedResult).reason), /0x00|invalid byte sequence/)
  assert.equal(
    settled.slice(2).map((s) => (s.status === 'fulfilled' ? s.value : 'rejected')),
    others.map(() => 'stored'),
  )
  const stored = await new OrderStore(opened.database).get('stored-before')
  assert.not.match(stored!.json, /changed/, 'the stored order kept')
  assert.is(await new OrderStore(opened.database).get('refused-by-postgres'), undefined)
})

test('a database cut fails the batch whole (nothing half-written); the consumer retries it and each order is stored once when it heals', async () => {
  const target = new URL(database.url)
  const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) })
  const viaProxy = new URL(database.url)
  viaProxy.host = `${proxy.host}:${proxy.port}`
  const cutDb = await open(viaProxy.toString())
  const batcher = new WriteBatcher(new OrderStore(cutDb.database), { maxBatch: 100, maxConcurrentWrites: 1, isUnavailable })
  const stop = new AbortController()
  const states: boolean[] = []
  const consumer = new OrderConsumer({
    queue: 'orders-batcher-test',
    store: batcher,
    strictness: 'full',
    publish: async () => assert.unreachable('nothing is dead-lettered'),
    isUnavailable,
    signal: stop.signal,
    maxOutageDelayMs: 100,
    onDatabase: (status) => states.push(status.ok),
  })
  try {
    // A direct look first: the batch fails with an outage error, for every order in it.
    proxy.cut()
    const direct = await Promise.allSettled([prepared('cut-direct-0'), prepared('cut-direct-1')].map((o) => batcher.save(o)))
    for (const result of direct) assert.ok(result.status === 'rejected' && isUnavailable(result.reason), 'an outage error')
    const uids = Array.from({ length: 10 }, (_, i) => `during-the-cut-${i}`)
    const handled = uids.map((uid) => consumer.handle({ body: Buffer.from(JSON.stringify(orderLike(uid))), headers: {}, redelivered: false }))
    let resolved = 0
    for (const handler of handled) void handler.then(() => resolved++)
    await waitFor(() => states.includes(false), { what: 'the consumer to see the outage' })
    const cutBatches = batcher.batches
    await waitFor(() => batcher.batches > cutBatches + 1, { what: 'the batch tried again during the cut' })
    // Two batches have failed against the cut database by now: a handler that resolved would have acked without a commit.
    assert.is(resolved, 0, 'no handler resolves (no ack) while the database is cut')
    proxy.restore()
    assert.equal(
      await Promise.all(handled),
      uids.map(() => 'stored'),
    )
    assert.equal(states, [false, true])
    const counts = await rowCounts(database.url)
    const store = new OrderStore(opened.database)
    for (const uid of uids) assert.ok(await store.get(uid), uid)
    assert.is(await store.get('cut-direct-0'), undefined, 'a failed batch left nothing behind')
    assert.is(counts.orders, counts.payments)
  } finally {
    stop.abort()
    await cutDb.close()
    await proxy.close()
  }
})

test.run()
