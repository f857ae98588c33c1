// Live updates across instances: two kernels on one PostgreSQL database, one consuming from
// RabbitMQ, the other serving the API and the page only; an order the first stores reaches the
// second's WebSocket (LISTEN/NOTIFY through the db plugin) and is then in its cache.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import WebSocket from 'ws'
import { startTestKernel, waitFor } from '@armature/testing'
import { parseNotice, payloads } from '../src/index.ts'
import { AMQP_URL, createTestDatabase, orderLike, PLUGINS, Publisher, unique } from './support.ts'

/** The messages a WebSocket receives, parsed, as they arrive. */
async function listen(url: string): Promise<{ messages: { type: string; order: { order_uid: string } }[]; close(): void }> {
  const socket = new WebSocket(`${url.replace('http', 'ws')}/orders/live`)
  const messages: { type: string; order: { order_uid: string } }[] = []
  socket.on('message', (data) => messages.push(JSON.parse(String(data))))
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject))
  return { messages, close: () => socket.close() }
}

test('notices are split under the NOTIFY payload limit and read back whole', () => {
  const uids = Array.from({ length: 400 }, (_, i) => `${'u'.repeat(50)}-${i}`)
  const sent = payloads('instance-a', uids)
  assert.ok(sent.length > 1, 'more than one notice')
  for (const payload of sent) assert.ok(Buffer.byteLength(payload) < 8000, `${Buffer.byteLength(payload)} bytes`)
  assert.equal(
    sent.flatMap((p) => parseNotice(p)!.uids),
    uids,
  )
  assert.is(parseNotice('not json'), undefined)
  assert.is(parseNotice('{"u":["x"]}'), undefined, 'a notice without its instance')
})

test('an order stored by one instance appears on the page of another sharing the database', async () => {
  const database = await createTestDatabase()
  const queue = unique('orders-live')
  const publisher = await Publisher.open()
  const consumer = await startTestKernel({ plugins: PLUGINS, env: { DATABASE_URL: database.url, AMQP_URL, ORDERS_QUEUE: queue } })
  const reader = await startTestKernel({ plugins: PLUGINS, env: { DATABASE_URL: database.url, AMQP_URL, ORDERS_QUEUE: queue, ORDERS_CONSUME: 'false' } })
  const onReader = await listen(reader.url)
  const onConsumer = await listen(consumer.url)
  try {
    const uids = [unique('live-a'), unique('live-b')]
    for (const uid of uids) await publisher.publish(queue, orderLike(uid))
    await waitFor(() => uids.every((uid) => onReader.messages.some((m) => m.type === 'stored' && m.order.order_uid === uid)), {
      what: "both orders on the other instance's page",
    })
    // The storing instance showed them at its commit, and its own notices are not shown again.
    await waitFor(() => onConsumer.messages.length >= uids.length, { what: "the orders on the storing instance's page" })
    const served = await fetch(`${reader.url}/api/orders/${uids[0]}`)
    assert.is(served.status, 200)
    assert.is(served.headers.get('x-cache'), 'hit', 'read once for the page, then cached')
    assert.equal((await served.json()).order_uid, uids[0])
    // A third order: by the time the reader shows it, the consumer's page has each order exactly once.
    const third = unique('live-c')
    await publisher.publish(queue, orderLike(third))
    await waitFor(() => onReader.messages.some((m) => m.order.order_uid === third), { what: 'the third order on the other page' })
    await waitFor(() => onConsumer.messages.some((m) => m.order.order_uid === third), { what: 'the third order on the storing page' })
    assert.equal(onConsumer.messages.map((m) => m.order.order_uid).sort(), [...uids, third].sort(), 'no order twice on the storing page')
  } finally {
    onReader.close()
    onConsumer.close()
    await reader.stop()
    await consumer.stop()
    await publisher.deleteQueues(queue, `${queue}.dead`)
    await publisher.close()
    await database.drop()
  }
})

test.run()
