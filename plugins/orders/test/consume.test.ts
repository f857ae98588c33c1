// RabbitMQ and PostgreSQL: orders published by plain amqplib are stored once, served as received,
// and invalid or conflicting ones are dead-lettered with their reasons while the consumer lives on.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { startTestKernel, waitFor, type TestKernel } from '@armature/testing'
import { AMQP_URL, createTestDatabase, getWithBody, MODEL, MODEL_TEXT, orderLike, PLUGINS, Publisher, rowCounts, unique, withClient, type TestDatabase } from './support.ts'

let database: TestDatabase
let publisher: Publisher
let k: TestKernel
const queue = unique('orders')

test.before(async () => {
  database = await createTestDatabase()
  publisher = await Publisher.open()
  k = await startTestKernel({ plugins: PLUGINS, env: { DATABASE_URL: database.url, AMQP_URL, ORDERS_QUEUE: queue } })
})

test.after(async () => {
  await k?.stop()
  await publisher?.deleteQueues(queue, `${queue}.dead`)
  await publisher?.close()
  await database?.drop()
})

test('the canonical order published by amqplib is stored in the four tables and served equal to order-model.json', async () => {
  await publisher.publish(queue, MODEL_TEXT)
  const response = await waitFor(
    async () => {
      const r = await fetch(`${k.url}/api/orders/${MODEL.order_uid}`)
      return r.status === 200 ? r : undefined
    },
    { what: 'the canonical order to be served' },
  )
  assert.equal(await response.json(), MODEL)
  assert.equal(await rowCounts(database.url), { orders: 1, deliveries: 1, payments: 1, items: 1 })
})

test('every order_uid column compares bytes (COLLATE "C") and the parts still reference their order', async () => {
  const { collations, keys } = await withClient(database.url, async (c) => ({
    collations: (
      await c.query(`SELECT table_name, collation_name FROM information_schema.columns WHERE column_name = 'order_uid' AND table_schema = current_schema() ORDER BY table_name`)
    ).rows,
    keys: (await c.query(`SELECT conrelid::regclass::text AS t FROM pg_constraint WHERE contype = 'f' AND confrelid = 'orders'::regclass ORDER BY 1`)).rows.map((r) => r.t),
  }))
  assert.equal(
    collations,
    ['deliveries', 'items', 'orders', 'payments'].map((table_name) => ({ table_name, collation_name: 'C' })),
  )
  assert.equal(keys, ['deliveries', 'items', 'payments'])
  // A part without its order is refused by the key, as before.
  const refused = await withClient(database.url, (c) =>
    c
      .query(
        `INSERT INTO payments (order_uid, transaction, request_id, currency, provider, amount, payment_dt, bank, delivery_cost, goods_total, custom_fee) VALUES ('no-such-order', 't', '', 'USD', 'p', 1, 1, '', 0, 1, 0)`,
      )
      .then(
        () => undefined,
        (error: { code?: string }) => error.code,
      ),
  )
  assert.is(refused, '23503', 'a foreign-key violation')
})

test('getOrder takes the uid in the query and, as the seed does, in the JSON body of a GET', async () => {
  const byQuery = await fetch(`${k.url}/api/getOrder?OrderUID=${MODEL.order_uid}`)
  assert.is(byQuery.status, 200)
  assert.equal(await byQuery.json(), MODEL)
  const byBody = await getWithBody(`${k.url}/api/getOrder`, JSON.stringify({ OrderUID: MODEL.order_uid }))
  assert.is(byBody.status, 200)
  assert.equal(JSON.parse(byBody.text), MODEL)
  assert.is(byBody.headers['x-cache'], 'hit')
})

test('an unknown uid is 404 and a malformed one 400, both as JSON naming the problem', async () => {
  const unknown = await fetch(`${k.url}/api/getOrder?OrderUID=nosuchorder`)
  assert.is(unknown.status, 404)
  assert.match((await unknown.json()).error, /no order "nosuchorder"/)
  const malformed = await fetch(`${k.url}/api/orders/${encodeURIComponent('bad uid!')}`)
  assert.is(malformed.status, 400)
  assert.match((await malformed.json()).error, /not an order uid/)
  const missing = await getWithBody(`${k.url}/api/getOrder`, '{}')
  assert.is(missing.status, 400)
  assert.match(JSON.parse(missing.text).error, /OrderUID is required/)
})

test('a redelivered and a re-sent order stay one row', async () => {
  const uid = unique('dup').replaceAll('-', '')
  const order = orderLike(uid)
  await publisher.publish(queue, order)
  await publisher.publish(queue, order)
  await publisher.publish(queue, order, { headers: { 'x-note': 'sent a third time' } })
  const sentinel = orderLike(`${uid}s`)
  await publisher.publish(queue, sentinel)
  await waitFor(async () => (await fetch(`${k.url}/api/orders/${uid}s`)).status === 200, { what: 'the sentinel after the duplicates' })
  assert.equal(await rowCounts(database.url), { orders: 3, deliveries: 3, payments: 3, items: 3 })
})

test('an invalid order is dead-lettered with every failing field, never stored, and the consumer goes on', async () => {
  const bad: Record<string, any> = {
    ...orderLike('bad-one'),
    delivery: { ...MODEL.delivery, email: 'not-an-email', phone: 'x' },
    payment: { ...MODEL.payment, amount: 1 },
    extra: true,
  }
  bad.items = [{ ...MODEL.items[0], total_price: 318 }]
  await publisher.publish(queue, bad)
  await publisher.publish(queue, '{ not json')
  const after = orderLike('after-bad')
  await publisher.publish(queue, after)
  await waitFor(async () => (await fetch(`${k.url}/api/orders/after-bad`)).status === 200, { what: 'the order after the invalid ones' })
  const letters: Awaited<ReturnType<Publisher['drain']>> = []
  await waitFor(async () => letters.push(...(await publisher.drain(`${queue}.dead`))) >= 2, { what: 'both dead letters' })
  const invalid = letters.find((m) => m.content.toString().includes('bad-one'))!
  const problems = JSON.parse(String(invalid.properties.headers!['x-orders-problems'])) as Array<{ path: string }>
  assert.equal(problems.map((p) => p.path).sort(), ['', 'delivery.email', 'delivery.phone', 'items.0.total_price', 'payment.amount', 'payment.goods_total'].sort())
  assert.is(invalid.properties.headers!['x-orders-reason'], 'invalid')
  assert.is(invalid.properties.headers!['x-armature-queue'], queue)
  assert.equal(JSON.parse(invalid.content.toString()), bad, 'the dead letter carries the body as sent')
  const notJson = letters.find((m) => m.content.toString() === '{ not json')!
  assert.match(String(notJson.properties.headers!['x-armature-error']), /not JSON/)
  assert.is((await fetch(`${k.url}/api/orders/bad-one`)).status, 404)
})

test('a changed payload under a stored uid is a conflict: dead-lettered, the stored order unchanged', async () => {
  await publisher.publish(queue, { ...structuredClone(MODEL), customer_id: 'someone-else' })
  const letter = await waitFor(async () => (await publisher.drain(`${queue}.dead`))[0], { what: 'the conflict dead letter' })
  assert.is(letter.properties.headers!['x-orders-reason'], 'conflict')
  const served = await (await fetch(`${k.url}/api/orders/${MODEL.order_uid}`)).json()
  assert.is(served.customer_id, MODEL.customer_id)
})

test('GET /api/orders pages the newest first with a cursor', async () => {
  const first = await (await fetch(`${k.url}/api/orders?limit=2`)).json()
  assert.is(first.orders.length, 2)
  assert.type(first.next, 'string')
  const second = await (await fetch(`${k.url}/api/orders?limit=2&cursor=${first.next}`)).json()
  const uids = [...first.orders, ...second.orders].map((o: { order_uid: string }) => o.order_uid)
  assert.is(new Set(uids).size, uids.length, 'no order on two pages')
  assert.is((await fetch(`${k.url}/api/orders?limit=0`)).status, 400)
  assert.is((await fetch(`${k.url}/api/orders?cursor=zzz`)).status, 400)
})

test('metrics count what happened', async () => {
  const text = await (await fetch(`${k.url}/metrics`)).text()
  assert.match(text, /armature_orders_messages_total\{outcome="stored"\} [1-9]/)
  assert.match(text, /armature_orders_messages_total\{outcome="duplicate"\} [1-9]/)
  assert.match(text, /armature_orders_messages_total\{outcome="invalid"\} [1-9]/)
  assert.match(text, /armature_orders_messages_total\{outcome="conflict"\} 1/)
})

test.run()
