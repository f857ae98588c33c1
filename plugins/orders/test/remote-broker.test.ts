// Two orders instances sharing one queue of the built-in broker in remote mode (PUBSUB_URL): a
// broker kernel, two consumers reaching it over gRPC, PostgreSQL shared; none lost or doubled.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Faker, en } from '@faker-js/faker'
import { startTestKernel, waitFor } from '@armature/testing'
import { fakeOrder } from '../src/index.ts'
import { createTestDatabase, rowCounts, unique } from './support.ts'

const plugin = (name: string) => new URL(`../../${name}`, import.meta.url).pathname
const PRODUCER = new URL('../producer/orders-producer.ts', import.meta.url).pathname

const metric = async (url: string, series: string) => {
  const line = (await (await fetch(`${url}/metrics`)).text()).split('\n').find((l) => l.startsWith(`${series} `))
  return line ? Number(line.slice(series.length + 1)) : 0
}

test('two consumers over PUBSUB_URL share the queue: each stores a part, none lost or doubled', async () => {
  const database = await createTestDatabase()
  const queue = unique('orders-remote')
  const broker = await startTestKernel({ plugins: [plugin('pubsub')], env: { AMQP_URL: '', GRPC_PORT: '0' } })
  const env = {
    AMQP_URL: '',
    GRPC_PORT: '0',
    PUBSUB_URL: `grpc://127.0.0.1:${broker.kernel.addresses.grpc}`,
    DATABASE_URL: database.url,
    ORDERS_QUEUE: queue,
    ORDERS_PRODUCER_QUEUE: queue,
    ORDERS_PREFETCH: '8',
  }
  const a = await startTestKernel({ plugins: [plugin('pubsub'), plugin('db'), plugin('orders'), PRODUCER], env })
  const b = await startTestKernel({ plugins: [plugin('pubsub'), plugin('db'), plugin('orders')], env })
  try {
    const faker = new Faker({ locale: [en] })
    faker.seed(3)
    const total = 400
    for (let sent = 0; sent < total; sent += 100) {
      const batch = Array.from({ length: 100 }, () => fakeOrder(faker))
      const response = await fetch(`${a.url}/orders-producer/publish`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(batch) })
      assert.is(response.status, 200, await response.text())
    }
    await waitFor(async () => (await rowCounts(database.url)).orders === total, { timeoutMs: 40_000, what: `${total} stored` })
    const series = 'armature_orders_messages_total{outcome="stored"}'
    const [byA, byB] = [await metric(a.url, series), await metric(b.url, series)]
    assert.ok(byA > 0 && byB > 0, `both consumed (${byA}, ${byB})`)
    assert.is(byA + byB, total)
    assert.is((await rowCounts(database.url)).payments, total)
  } finally {
    await a.stop()
    await b.stop()
    await broker.stop()
    await database.drop()
  }
})

test.run()
