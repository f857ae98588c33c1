// Faults on RabbitMQ and PostgreSQL: a cut database holds messages unacknowledged until it heals;
// kill -9 of a consumer during a stream loses and doubles nothing; two consumers share a queue.
// SOAK=1 runs the kill -9 stream with 10,000 orders (2,000 otherwise).
import { cpSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Faker, en } from '@faker-js/faker'
import { spawnKernel, startTcpProxy, startTestKernel, waitFor, type ChildKernel } from '@armature/testing'
import { fakeOrder, type Order } from '../src/index.ts'
import { AMQP_URL, createTestDatabase, orderLike, PLUGINS, Publisher, rowCounts, unique, withClient } from './support.ts'

const STREAM = process.env.SOAK === '1' ? 10_000 : 2_000

const faker = new Faker({ locale: [en] })
faker.seed(14)

/** A drop-in folder with copies of the db and orders plugins, for a child kernel of those two alone. */
function dropIn(): string {
  const dir = mkdtempSync(join(tmpdir(), 'orders-plugins-'))
  for (const name of ['db', 'orders']) {
    cpSync(new URL(`../../${name}`, import.meta.url).pathname, join(dir, name), { recursive: true, filter: (src) => !src.includes('node_modules') && !src.includes('/test') })
  }
  return dir
}

const storedUids = (url: string) => withClient(url, async (c) => new Set((await c.query('SELECT order_uid FROM orders')).rows.map((r) => r.order_uid as string)))

const metric = async (url: string, series: string) => {
  const line = (await (await fetch(`${url}/metrics`)).text()).split('\n').find((l) => l.startsWith(`${series} `))
  return line ? Number(line.slice(series.length + 1)) : 0
}

test('a database cut: messages wait unacknowledged, /readyz turns 503, and every order is stored once it heals', async () => {
  const database = await createTestDatabase()
  const target = new URL(database.url)
  const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) })
  const throughProxy = new URL(database.url)
  throughProxy.host = `${proxy.host}:${proxy.port}`
  const queue = unique('orders-cut')
  const publisher = await Publisher.open()
  const k = await startTestKernel({
    plugins: PLUGINS,
    env: { DATABASE_URL: throughProxy.toString(), AMQP_URL, ORDERS_QUEUE: queue, ORDERS_MAX_OUTAGE_DELAY_MS: '200', ORDERS_PREFETCH: '5', DB_CONNECT_TIMEOUT_MS: '1000' },
  })
  try {
    await publisher.publish(queue, orderLike('before-cut'))
    await waitFor(async () => (await rowCounts(database.url)).orders === 1, { what: 'the first order' })
    proxy.cut()
    const uids = Array.from({ length: 20 }, (_, i) => `during-cut-${i}`)
    for (const uid of uids) await publisher.publish(queue, orderLike(uid))
    await waitFor(async () => (await fetch(`${k.url}/readyz`)).status === 503, { what: '/readyz to report the database' })
    // Five held by the handlers (the prefetch), unacknowledged; the other fifteen still ready in the queue.
    await waitFor(async () => (await publisher.channel.checkQueue(queue)).messageCount === 15, { what: 'fifteen messages left ready' })
    assert.is((await rowCounts(database.url)).orders, 1, 'nothing stored while cut')
    assert.equal(await publisher.drain(`${queue}.dead`), [], 'an outage dead-letters nothing')
    proxy.restore()
    await waitFor(async () => (await rowCounts(database.url)).orders === 21, { timeoutMs: 20_000, what: 'the held orders after the cut healed' })
    const stored = await storedUids(database.url)
    for (const uid of uids) assert.ok(stored.has(uid), uid)
    assert.is((await publisher.channel.checkQueue(queue)).messageCount, 0)
    await waitFor(async () => (await fetch(`${k.url}/readyz`)).status === 200, { what: '/readyz back to 200' })
  } finally {
    await k.stop()
    await proxy.close()
    await publisher.deleteQueues(queue, `${queue}.dead`)
    await publisher.close()
    await database.drop()
  }
})

test(`kill -9 of the consumer during a ${STREAM}-order stream: after a restart every order is stored exactly once`, async () => {
  const database = await createTestDatabase()
  const queue = unique('orders-kill')
  const publisher = await Publisher.open()
  const plugins = dropIn()
  // Small batches and prefetch keep the stream long enough that the kill lands in its middle, however fast the machine.
  const env = { DATABASE_URL: database.url, AMQP_URL, ORDERS_QUEUE: queue, GRPC_PORT: '0', ORDERS_PREFETCH: '32', ORDERS_WRITE_BATCH: '8' }
  const log: Order[] = []
  let child: ChildKernel | undefined
  try {
    // The producer's log: every order confirmed by the broker, some of them sent twice.
    await publisher.channel.assertQueue(queue, { durable: true })
    for (let i = 0; i < STREAM; i++) {
      const order = fakeOrder(faker, new Date(Date.UTC(2024, 0, 1) + i * 1000))
      log.push(order)
      publisher.channel.sendToQueue(queue, Buffer.from(JSON.stringify(order)), { persistent: true })
      if (i % 10 === 0) publisher.channel.sendToQueue(queue, Buffer.from(JSON.stringify(order)), { persistent: true })
      if (i % 500 === 499) await publisher.channel.waitForConfirms()
    }
    await publisher.channel.waitForConfirms()
    child = await spawnKernel({ args: ['--plugins', plugins], env })
    await waitFor(async () => (await rowCounts(database.url)).orders > 0, { timeoutMs: 60_000, intervalMs: 5, what: 'the stream being stored' })
    child.child.kill('SIGKILL')
    await child.exited
    const atKill = await rowCounts(database.url)
    assert.ok(atKill.orders < STREAM, `the kill came during the stream (${atKill.orders} of ${STREAM} stored)`)
    child = await spawnKernel({ args: ['--plugins', plugins], env })
    await waitFor(async () => (await rowCounts(database.url)).orders === STREAM && (await publisher.channel.checkQueue(queue)).messageCount === 0, {
      timeoutMs: 120_000,
      intervalMs: 200,
      what: `all ${STREAM} orders stored and the queue empty`,
    })
    const stored = await storedUids(database.url)
    assert.is(stored.size, STREAM)
    for (const order of log) if (!stored.has(order.order_uid)) assert.unreachable(`${order.order_uid} missing`)
    const counts = await rowCounts(database.url)
    const items = log.reduce((n, o) => n + o.items.length, 0)
    assert.equal(counts, { orders: STREAM, deliveries: STREAM, payments: STREAM, items }, 'every order whole: no part lost or doubled by the kill')
  } finally {
    if (child) {
      child.child.kill('SIGTERM')
      await child.exited
    }
    await publisher.deleteQueues(queue, `${queue}.dead`)
    await publisher.close()
    await database.drop()
  }
})

test('two consumers share one queue: each stores a part, none lost or doubled', async () => {
  const database = await createTestDatabase()
  const queue = unique('orders-pair')
  const publisher = await Publisher.open()
  const env = { DATABASE_URL: database.url, AMQP_URL, ORDERS_QUEUE: queue, ORDERS_PREFETCH: '8' }
  const a = await startTestKernel({ plugins: PLUGINS, env })
  const b = await startTestKernel({ plugins: PLUGINS, env })
  try {
    const total = 600
    for (let i = 0; i < total; i++) publisher.channel.sendToQueue(queue, Buffer.from(JSON.stringify(fakeOrder(faker))), { persistent: true })
    await publisher.channel.waitForConfirms()
    await waitFor(async () => (await rowCounts(database.url)).orders === total, { timeoutMs: 30_000, what: `${total} stored` })
    const series = 'armature_orders_messages_total{outcome="stored"}'
    // The rows are visible a moment before each instance counts their commit: wait for the counts to add up.
    const byBoth = async () => [await metric(a.url, series), await metric(b.url, series)] as const
    await waitFor(
      async () => {
        const [x, y] = await byBoth()
        return x + y >= total
      },
      { what: 'both instances to count their commits' },
    )
    const [byA, byB] = await byBoth()
    assert.ok(byA > 0 && byB > 0, `both consumed (${byA}, ${byB})`)
    assert.is(byA + byB, total, 'each order stored by one of them')
    assert.is(await metric(a.url, 'armature_orders_messages_total{outcome="duplicate"}'), 0)
    assert.is(await metric(b.url, 'armature_orders_messages_total{outcome="duplicate"}'), 0)
  } finally {
    await a.stop()
    await b.stop()
    await publisher.deleteQueues(queue, `${queue}.dead`)
    await publisher.close()
    await database.drop()
  }
})

test.run()
