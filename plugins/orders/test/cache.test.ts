// The cache after a restart: warmed with the newest N orders in one query before the routes
// serve, then evicting as configured (oldest by creation, or least recently used).
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { startTestKernel, waitFor } from '@armature/testing'
import { AMQP_URL, createTestDatabase, orderLike, PLUGINS, Publisher, unique, type TestDatabase } from './support.ts'

let database: TestDatabase
let publisher: Publisher
const queue = unique('orders-cache')
// Six orders, published out of creation order: "newest" is by date_created, not by arrival.
const days = [4, 1, 6, 2, 5, 3]
const uid = (day: number) => `cache-day-${day}`

const xCache = async (url: string, id: string) => {
  const response = await fetch(`${url}/api/orders/${id}`)
  assert.is(response.status, 200, id)
  return response.headers.get('x-cache')
}

test.before(async () => {
  database = await createTestDatabase()
  publisher = await Publisher.open()
  const k = await startTestKernel({ plugins: PLUGINS, env: { DATABASE_URL: database.url, AMQP_URL, ORDERS_QUEUE: queue } })
  try {
    for (const day of days) await publisher.publish(queue, orderLike(uid(day), `2024-03-0${day}T10:00:00Z`))
    await waitFor(async () => (await (await fetch(`${k.url}/api/orders?limit=10`)).json()).orders.length === days.length, { what: 'all six stored' })
  } finally {
    await k.stop()
  }
})

test.after(async () => {
  await publisher?.deleteQueues(queue, `${queue}.dead`)
  await publisher?.close()
  await database?.drop()
})

test('after a restart the newest N by creation are cached; the oldest ones are read through and not kept', async () => {
  const k = await startTestKernel({ plugins: PLUGINS, env: { DATABASE_URL: database.url, ORDERS_CONSUME: 'false', ORDERS_CACHE_SIZE: '3' } })
  try {
    for (const day of [6, 5, 4]) assert.is(await xCache(k.url, uid(day)), 'hit', `day ${day}`)
    assert.is(await xCache(k.url, uid(1)), 'miss')
    assert.is(await xCache(k.url, uid(1)), 'miss', 'older than every cached order: not kept under creation eviction')
    const metrics = await waitFor(async () => {
      const text = await (await fetch(`${k.url}/metrics`)).text()
      return /armature_orders_cache_reads_total\{result="miss"\} 2/.test(text) ? text : undefined
    })
    assert.match(metrics, /armature_orders_cache_entries 3/)
    assert.match(metrics, /armature_orders_cache_reads_total\{result="hit"\} 3/)
  } finally {
    await k.stop()
  }
})

test('with lru a read-through order is kept and the least recently read goes', async () => {
  const k = await startTestKernel({ plugins: PLUGINS, env: { DATABASE_URL: database.url, ORDERS_CONSUME: 'false', ORDERS_CACHE_SIZE: '3', ORDERS_CACHE_EVICTION: 'lru' } })
  try {
    assert.is(await xCache(k.url, uid(5)), 'hit')
    assert.is(await xCache(k.url, uid(6)), 'hit')
    assert.is(await xCache(k.url, uid(1)), 'miss')
    assert.is(await xCache(k.url, uid(1)), 'hit', 'kept after the read')
    assert.is(await xCache(k.url, uid(4)), 'miss', 'day 4 was the least recently read, so it went')
  } finally {
    await k.stop()
  }
})

test('the byte budget bounds the warm-up too', async () => {
  const size = Buffer.byteLength(JSON.stringify(orderLike(uid(1), '2024-03-01T10:00:00Z')))
  const k = await startTestKernel({ plugins: PLUGINS, env: { DATABASE_URL: database.url, ORDERS_CONSUME: 'false', ORDERS_CACHE_MAX_BYTES: String(size * 2 + 10) } })
  try {
    assert.is(await xCache(k.url, uid(6)), 'hit')
    assert.is(await xCache(k.url, uid(5)), 'hit')
    assert.is(await xCache(k.url, uid(4)), 'miss')
  } finally {
    await k.stop()
  }
})

test('the page is at /orders/, and /orders redirects there', async () => {
  const k = await startTestKernel({ plugins: PLUGINS, env: { DATABASE_URL: database.url, ORDERS_CONSUME: 'false' } })
  try {
    const redirect = await fetch(`${k.url}/orders`, { redirect: 'manual' })
    assert.is(redirect.status, 301)
    assert.is(redirect.headers.get('location'), '/orders/')
    const page = await fetch(`${k.url}/orders/`)
    assert.is(page.status, 200)
    assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self'/)
    assert.match(await page.text(), /<script src="page.js"/)
    assert.is((await fetch(`${k.url}/orders/page.js`)).headers.get('content-type'), 'text/javascript; charset=utf-8')
  } finally {
    await k.stop()
  }
})

test.run()
