// The client's consumer over gRPC against a kernel's broker: pull and push members, commits,
// a second member taking half the partitions, rejoining after a connection cut for longer than
// the session, per-partition order under 8 concurrent producers, push flow control, ackWait
// redelivery, dead letter after maxDeliveries, and the typed errors.
import { join } from 'node:path'
import { startTcpProxy, startTestKernel, waitFor, type TestKernel } from '@armature/testing'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Consumer, ConsumerError, Producer, PubsubConnection, PubsubError, subscribe, type Broker, type Delivery } from '../src/index.ts'

const PLUGIN = join(import.meta.dirname, '..')
const kernel: TestKernel = await startTestKernel({ plugins: [PLUGIN], env: { GRPC_PORT: '0', PUBSUB_AUTO_CREATE_TOPICS: 'false' } })
const url = `grpc://127.0.0.1:${kernel.kernel.addresses.grpc}`
const broker = kernel.kernel.slots.get('pubsub')!.current!.api as Broker
const connection = new PubsubConnection(url)
let topicNo = 0
const newTopic = (partitions: number) => {
  const name = `c${Date.now()}-${topicNo++}`
  broker.createTopic(name, { partitions })
  return name
}
const fast = { sessionTimeoutMs: 3000, heartbeatIntervalMs: 100, maxWaitMs: 200, autoCommitIntervalMs: 100 }

async function produce(topic: string, count: number, key = (i: number) => `k${i}`): Promise<void> {
  const producer = new Producer(connection)
  await Promise.all(Array.from({ length: count }, (_, i) => producer.send({ topic, messages: [{ key: key(i), value: String(i) }] })))
  await producer.close()
}

const committedAll = (group: string, topic: string) =>
  broker
    .group(group)
    .lag()
    .filter((l) => l.topic === topic)

test('pull: every record once, per-partition order, commits up to the end; a second member takes half the partitions and nothing is lost', async () => {
  const topic = newTopic(4)
  await produce(topic, 200)
  const seen: Array<{ member: number; partition: number; offset: number }> = []
  const one = new Consumer(url, { groupId: `g-${topic}`, ...fast })
  await one.subscribe({ topics: [topic] })
  await one.run({ eachMessage: async ({ partition, message }) => void seen.push({ member: 1, partition, offset: message.offset }) })
  await waitFor(() => seen.length >= 200, { what: 'the first 200' })
  const two = new Consumer(url, { groupId: `g-${topic}`, ...fast })
  await two.subscribe({ topics: [topic] })
  await two.run({ eachMessage: async ({ partition, message }) => void seen.push({ member: 2, partition, offset: message.offset }) })
  await waitFor(() => one.assignment().length === 2 && two.assignment().length === 2, { what: 'two partitions each' })
  await produce(topic, 200)
  await waitFor(() => committedAll(`g-${topic}`, topic).every((l) => l.lag === 0 && l.end > 0), { what: 'everything committed' })
  await Promise.all([one.disconnect(), two.disconnect()])
  for (let p = 0; p < 4; p++) {
    const offsets = seen.filter((s) => s.partition === p).map((s) => s.offset)
    assert.equal(
      [...new Set(offsets)].sort((a, b) => a - b),
      Array.from({ length: broker.log(topic, p).endOffset }, (_, i) => i),
      `partition ${p}: every offset`,
    )
    // Each member saw the partition in order while it held it.
    for (const member of [1, 2]) {
      const mine = seen.filter((s) => s.partition === p && s.member === member).map((s) => s.offset)
      assert.equal(
        mine,
        [...mine].sort((a, b) => a - b),
        `member ${member} in order on ${p}`,
      )
    }
  }
  assert.is(new Set(seen.map((s) => `${s.partition}/${s.offset}`)).size, 400)
  assert.is(seen.length, 400, 'a clean handover: nothing read twice')
  assert.is(broker.group(`g-${topic}`).size, 0, 'both left on disconnect')
})

test('pull with explicit commits: only commit() counts; a new member starts after the last commit', async () => {
  const topic = newTopic(1)
  await produce(topic, 10)
  const group = `g-${topic}`
  const first = new Consumer(url, { groupId: group, ...fast, autoCommit: false })
  await first.subscribe({ topics: [topic] })
  let n = 0
  await first.run({
    eachMessage: async ({ message, commit }) => {
      n++
      if (message.offset === 5) await commit()
    },
  })
  await waitFor(() => n === 10, { what: 'ten handled' })
  await first.disconnect()
  assert.is(broker.group(group).committed(topic, 0), 6, 'committed through offset 5 only')
  const again: number[] = []
  const second = new Consumer(url, { groupId: group, ...fast })
  await second.subscribe({ topics: [topic] })
  await second.run({
    eachBatch: async ({ batch }) => {
      again.push(...batch.messages.map((m) => m.offset))
    },
  })
  await waitFor(() => again.length === 4, { what: 'the four after the commit' })
  assert.equal(again, [6, 7, 8, 9])
  await second.disconnect()
  assert.is(broker.group(group).committed(topic, 0), 10)
})

test('pull: a connection cut for longer than the session; the member rejoins and nothing is lost', async () => {
  const topic = newTopic(2)
  const proxy = await startTcpProxy({ host: '127.0.0.1', port: kernel.kernel.addresses.grpc! })
  const seen = new Set<string>()
  const events: string[] = []
  const consumer = new Consumer(`grpc://127.0.0.1:${proxy.port}`, { groupId: `g-${topic}`, ...fast, sessionTimeoutMs: 800, heartbeatIntervalMs: 100 })
  consumer.on('join', () => events.push('join'))
  consumer.on('lost', () => events.push('lost'))
  await consumer.subscribe({ topics: [topic] })
  await consumer.run({ eachMessage: async ({ partition, message }) => void seen.add(`${partition}/${message.offset}`) })
  await produce(topic, 50)
  await waitFor(() => seen.size === 50, { what: 'the first 50' })
  proxy.cut()
  await waitFor(() => broker.group(`g-${topic}`).size === 0, { what: 'the broker to expire the member' })
  await produce(topic, 50)
  proxy.restore()
  await waitFor(() => seen.size === 100, { what: 'all 100 after the rejoin', timeoutMs: 15_000 })
  assert.ok(events.filter((e) => e === 'join').length >= 2, 'joined again')
  assert.ok(events.includes('lost'), 'its partitions were reported lost')
  await consumer.disconnect()
  await proxy.close()
})

test('per-partition order under 8 concurrent producers, consumed over the wire', async () => {
  const topic = newTopic(3)
  const producers = Array.from({ length: 8 }, () => new Producer(new PubsubConnection(url), { lingerMs: 1 }))
  await Promise.all(
    producers.map(async (producer, p) => {
      for (let i = 0; i < 150; i++) {
        // Several in flight at once per producer: the sequence numbers keep them in send order.
        const sends = [0, 1, 2].map((j) => producer.send({ topic, messages: [{ key: `producer-${p}`, value: `${p}:${i * 3 + j}` }] }))
        await Promise.all(sends)
      }
    }),
  )
  const byPartition = new Map<number, string[]>()
  const consumer = new Consumer(url, { groupId: `g-${topic}`, ...fast })
  await consumer.subscribe({ topics: [topic] })
  await consumer.run({ eachMessage: async ({ partition, message }) => void byPartition.set(partition, [...(byPartition.get(partition) ?? []), message.value.toString()]) })
  await waitFor(() => [...byPartition.values()].reduce((n, v) => n + v.length, 0) === 8 * 450, { what: 'all records' })
  await consumer.disconnect()
  for (const [partition, values] of byPartition) {
    const last = new Map<string, number>()
    for (const v of values) {
      const [p, seq] = v.split(':')
      assert.ok(Number(seq) > (last.get(p!) ?? -1), `producer ${p} in order on partition ${partition}`)
      last.set(p!, Number(seq))
    }
  }
  await Promise.all(producers.map((p) => p.close()))
})

test('push over the wire: a slow member never holds more than maxAckPending, and the group shows it saturated', async () => {
  const topic = newTopic(2)
  await produce(topic, 60)
  const got: Delivery[] = []
  let acked = 0
  let most = 0
  const subscription = await subscribe(
    connection,
    { group: `g-${topic}`, topics: [topic], mode: 'exclusive', sessionTimeoutMs: 5000, push: { maxAckPending: 4, ackWaitMs: 0, maxDeliveries: 0 } },
    (d) => {
      got.push(d)
      most = Math.max(most, got.length - acked)
    },
  )
  await waitFor(() => got.length === 4, { what: 'four deliveries' })
  const described = JSON.parse((await connection.call<{ json: string }>('DescribeGroup', { group: `g-${topic}` })).json)
  assert.is(described.members[0].saturated, true)
  assert.is(described.members[0].ackPending, 4)
  while (acked < 60) {
    await waitFor(() => got.length > acked, { what: `delivery ${acked + 1}` })
    await new Promise((resolve) => setTimeout(resolve, 2))
    subscription.ack(got[acked++]!)
  }
  assert.is(most, 4, 'never more than maxAckPending unacknowledged at the member')
  await waitFor(() => committedAll(`g-${topic}`, topic).every((l) => l.lag === 0), { what: 'the acks committed' })
  await subscription.close()
})

test('push consumer: a handler slower than ackWait gets the record again; a failing one sends it to <topic>.dead after maxDeliveries', async () => {
  const topic = newTopic(1)
  await produce(topic, 3, () => 'same')
  const calls: Array<{ offset: number; deliveries: number }> = []
  const consumer = new Consumer(url, { groupId: `g-${topic}`, mode: 'push', ackWaitMs: 300, maxDeliveries: 3, retryDelayMs: 20 })
  await consumer.subscribe({ topics: [topic] })
  await consumer.run({
    eachMessage: async ({ message, deliveries }) => {
      calls.push({ offset: message.offset, deliveries })
      if (message.offset === 0 && deliveries === 1) await new Promise((resolve) => setTimeout(resolve, 700))
      if (message.offset === 2) throw new Error('poison')
    },
  })
  await waitFor(() => broker.hasTopic(`${topic}.dead`) && broker.log(`${topic}.dead`, 0).endOffset === 1, { what: 'the dead letter' })
  assert.ok(
    calls.some((c) => c.offset === 0 && c.deliveries === 2),
    'offset 0 delivered again after ackWait',
  )
  assert.equal(
    calls.filter((c) => c.offset === 2).map((c) => c.deliveries),
    [1, 2, 3],
  )
  const [dead] = (await broker.fetch(`${topic}.dead`, 0, 0)).records
  assert.is(dead!.value.toString(), '2')
  assert.is(dead!.headers['x-pubsub-reason'], 'nak')
  assert.is(dead!.headers['x-pubsub-deliveries'], '3')
  await waitFor(() => broker.group(`g-${topic}`).committed(topic, 0) === 3, { what: 'everything settled' })
  await consumer.disconnect()
})

test('typed errors: misuse is a ConsumerError, an unknown topic rejects run() with the broker code', async () => {
  const consumer = new Consumer(url, { groupId: 'g-errors' })
  try {
    await consumer.run({ eachMessage: async () => {} })
    assert.unreachable()
  } catch (error) {
    assert.instance(error, ConsumerError)
    assert.is((error as ConsumerError).code, 'NOT_SUBSCRIBED')
  }
  await consumer.subscribe({ topics: ['no-such-topic-here'] })
  try {
    await consumer.run({ eachMessage: async () => {}, eachBatch: async () => {} })
    assert.unreachable()
  } catch (error) {
    assert.is((error as ConsumerError).code, 'NO_HANDLER')
  }
  try {
    await consumer.run({ eachMessage: async () => {} })
    assert.unreachable()
  } catch (error) {
    assert.instance(error, PubsubError)
    assert.is((error as PubsubError).code, 'UNKNOWN_TOPIC')
  }
  await consumer.disconnect()
  assert.throws(() => new Consumer(url, { groupId: 'g', heartbeatIntervalMs: 5000, sessionTimeoutMs: 1000 }), /heartbeatIntervalMs/)
  assert.throws(() => new PubsubConnection(url, { receiveWindowBytes: 1000 }), /receiveWindowBytes: expected an integer from 65535/)
})

test.after(async () => {
  connection.close()
  await kernel.stop()
})

test.run()
