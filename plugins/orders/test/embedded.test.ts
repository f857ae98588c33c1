// The embedded default: no AMQP_URL and no DATABASE_URL, so orders go through the built-in broker
// (the pubsub plugin's queue backend) into PGlite. Published by the producer plugin's route, which
// is ctx.queue.publish with its confirm.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { startTestKernel, waitFor, type TestKernel } from '@armature/testing'
import { MODEL, MODEL_TEXT, orderLike } from './support.ts'

const plugin = (name: string) => new URL(`../../${name}`, import.meta.url).pathname
const PRODUCER = new URL('../producer/orders-producer.ts', import.meta.url).pathname
// GRPC_PORT 0: the broker's gRPC server on a free port, not the default one another process may hold.
const ENV = { AMQP_URL: '', DATABASE_URL: '', GRPC_PORT: '0', ORDERS_QUEUE: 'orders', ORDERS_PRODUCER_QUEUE: 'orders', ORDERS_CACHE_SIZE: '2' }
let k: TestKernel

const publish = async (bodies: unknown[]) => {
  const response = await fetch(`${k.url}/orders-producer/publish`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(bodies) })
  assert.is(response.status, 200, await response.clone().text())
  return response.json()
}

test.before(async () => {
  k = await startTestKernel({ plugins: [plugin('pubsub'), plugin('db'), plugin('orders'), PRODUCER], env: ENV })
})

test.after(async () => {
  await k?.stop()
})

test('the canonical order goes through the built-in broker into PGlite and is served equal to the model', async () => {
  const { backend } = await publish([JSON.parse(MODEL_TEXT)])
  assert.is(backend, 'pubsub')
  const served = await waitFor(async () => {
    const r = await fetch(`${k.url}/api/getOrder?OrderUID=${MODEL.order_uid}`)
    return r.status === 200 ? r.json() : undefined
  })
  assert.equal(served, MODEL)
})

test('duplicates stay one order; an invalid one is dead-lettered and the consumer goes on', async () => {
  const again = orderLike('embedded-1', '2024-01-01T00:00:00Z')
  const bad = { ...orderLike('embedded-bad'), payment: { ...MODEL.payment, amount: 0 } }
  await publish([again, again, bad, again, orderLike('embedded-2', '2024-01-02T00:00:00Z')])
  await waitFor(async () => (await fetch(`${k.url}/api/orders/embedded-2`)).status === 200, { what: 'embedded-2 stored' })
  const { orders } = await (await fetch(`${k.url}/api/orders?limit=100`)).json()
  assert.equal(orders.map((o: { order_uid: string }) => o.order_uid).sort(), [MODEL.order_uid, 'embedded-1', 'embedded-2'].sort())
  const metrics = await waitFor(async () => {
    const text = await (await fetch(`${k.url}/metrics`)).text()
    return /armature_orders_messages_total\{outcome="invalid"\} 1/.test(text) ? text : undefined
  })
  assert.match(metrics, /armature_orders_messages_total\{outcome="duplicate"\} 2/)
  assert.is((await fetch(`${k.url}/api/orders/embedded-bad`)).status, 404)
})

test('after a restart on the same data folder the cache holds the newest two', async () => {
  const dataDir = `${k.dir}/data-kept`
  const first = await startTestKernel({ plugins: [plugin('pubsub'), plugin('db'), plugin('orders'), PRODUCER], env: { ...ENV, DATA_DIR: dataDir } })
  try {
    const response = await fetch(`${first.url}/orders-producer/publish`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([1, 2, 3].map((day) => orderLike(`day-${day}`, `2024-05-0${day}T00:00:00Z`))),
    })
    assert.is(response.status, 200)
    await waitFor(async () => (await (await fetch(`${first.url}/api/orders?limit=10`)).json()).orders.length === 3, { what: 'three stored' })
  } finally {
    await first.stop()
  }
  const second = await startTestKernel({ plugins: [plugin('pubsub'), plugin('db'), plugin('orders')], env: { ...ENV, DATA_DIR: dataDir } })
  try {
    const xCache = async (uid: string) => (await fetch(`${second.url}/api/orders/${uid}`)).headers.get('x-cache')
    assert.is(await xCache('day-3'), 'hit')
    assert.is(await xCache('day-2'), 'hit')
    assert.is(await xCache('day-1'), 'miss')
  } finally {
    await second.stop()
  }
})

test.run()
