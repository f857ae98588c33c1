// The client producer over the wire: the sends of one turn go as one frame (lingerMs 0 ends at
// the end of the turn), batches close at maxBatchBytes / maxBatchRecords, at most maxInFlight
// frames await an answer, and a producer the broker forgot (a memory broker restarted) takes
// a new id and resends.
import { join } from 'node:path'
import { startTestKernel, type ChildKernel, type TestKernel } from '@armature/testing'
import { test } from 'uvu'
import { unpackProduce } from '../src/packed.ts'
import * as assert from 'uvu/assert'
import { Producer, PubsubConnection, PubsubError, type Broker } from '../src/index.ts'
import { childBroker } from './support/child-broker.ts'

const PLUGIN = join(import.meta.dirname, '..')
const kernel: TestKernel = await startTestKernel({ plugins: [PLUGIN], env: { GRPC_PORT: '0' } })
const url = `grpc://127.0.0.1:${kernel.kernel.addresses.grpc}`
const broker = kernel.kernel.slots.get('pubsub')!.current!.api as Broker
let topics = 0
const topicName = () => `producer-${Date.now()}-${topics++}`

/** A connection whose ProduceStream frames are recorded: records per frame, and the most frames awaiting an answer at once. */
function watched(): { connection: PubsubConnection; frames: number[]; maxAwaiting: () => number } {
  const connection = new PubsubConnection(url)
  const frames: number[] = []
  let awaiting = 0
  let most = 0
  const open = connection.raw.ProduceStream.bind(connection.raw)
  connection.raw.ProduceStream = () => {
    const stream = open()
    const write = stream.write.bind(stream)
    stream.write = (request: { packed_records: Buffer }) => {
      frames.push(unpackProduce(request.packed_records).length)
      most = Math.max(most, ++awaiting)
      return write(request)
    }
    stream.on('data', () => awaiting--)
    return stream
  }
  return { connection, frames, maxAwaiting: () => most }
}

const turn = () => new Promise((resolve) => setImmediate(resolve))

test('lingerMs 0: the sends of one turn go as one frame, written before the next turn', async () => {
  const { connection, frames } = watched()
  const producer = new Producer(connection, { createPartitions: 1 })
  const topic = topicName()
  try {
    await producer.send({ topic, messages: [{ value: 'first' }] })
    frames.length = 0
    const sends = Array.from({ length: 50 }, (_, i) => producer.send({ topic, messages: [{ value: `v${i}` }] }))
    await turn()
    assert.equal(frames, [50], 'the 50 sends of the turn went as one frame by the end of the turn')
    const offsets = await Promise.all(sends)
    assert.equal(
      offsets.map(([r]) => r!.offset),
      Array.from({ length: 50 }, (_, i) => i + 1),
      'each send got its own offset, in order',
    )
  } finally {
    await producer.close()
    connection.close()
  }
})

test('keyless sends stay on one partition while its batch is open and move to another once it is sent (KIP-480)', async () => {
  const { connection, frames } = watched()
  const producer = new Producer(connection, { createPartitions: 4 })
  const topic = topicName()
  try {
    const partitionsOf = async (n: number) => {
      const sends = Array.from({ length: n }, (_, i) => producer.send({ topic, messages: [{ value: `v${i}` }] }))
      return new Set((await Promise.all(sends)).map(([r]) => r!.partition))
    }
    frames.length = 0
    const first = await partitionsOf(40)
    assert.is(first.size, 1, 'the 40 one-message sends of a turn joined one batch on one partition')
    assert.equal(frames, [40])
    const second = await partitionsOf(40)
    assert.is(second.size, 1)
    assert.is.not([...second][0], [...first][0], 'the next batch took another partition')
  } finally {
    await producer.close()
    connection.close()
  }
})

test('maxBatchBytes and maxBatchRecords close a batch; a record larger than maxBatchBytes goes alone', async () => {
  const { connection, frames } = watched()
  const producer = new Producer(connection, { createPartitions: 1, maxBatchBytes: 4096, maxBatchRecords: 3 })
  const topic = topicName()
  try {
    await producer.send({ topic, messages: [{ value: 'first' }] })
    frames.length = 0
    const kilobyte = Buffer.alloc(1000, 'k')
    // 1000-byte values: four fit 4096 bytes, but three records close the batch first.
    const small = Array.from({ length: 7 }, () => producer.send({ topic, messages: [{ value: kilobyte }] }))
    const large = producer.send({ topic, messages: [{ value: Buffer.alloc(5000, 'l') }] })
    await Promise.all([...small, large])
    assert.equal(frames, [3, 3, 1, 1], 'batches of 3 records, then what was left, then the large record alone')
    frames.length = 0
    const bytesProducer = new Producer(connection, { createPartitions: 1, maxBatchBytes: 4096 })
    await bytesProducer.send({ topic, messages: [{ value: 'warm' }] })
    frames.length = 0
    // One send of ten records splits at the byte limit too, and answers every offset in order.
    const offsets = await bytesProducer.send({ topic, messages: Array.from({ length: 10 }, () => ({ value: kilobyte })) })
    assert.equal(frames, [4, 4, 2])
    assert.equal(
      offsets.map((o) => o.offset - offsets[0]!.offset),
      Array.from({ length: 10 }, (_, i) => i),
    )
    await bytesProducer.close()
  } finally {
    await producer.close()
    connection.close()
  }
})

test('maxInFlight bounds the frames awaiting an answer; the rest go in order, every record once', async () => {
  const { connection, frames, maxAwaiting } = watched()
  const producer = new Producer(connection, { createPartitions: 1, maxBatchRecords: 50, maxInFlight: 2 })
  const topic = topicName()
  try {
    const sends = Array.from({ length: 1000 }, (_, i) => producer.send({ topic, messages: [{ value: `v${i}` }] }))
    const offsets = (await Promise.all(sends)).map(([r]) => r!.offset)
    assert.is(frames.length, 20, '1000 records in batches of 50')
    assert.is(maxAwaiting(), 2, 'never more than two frames awaiting an answer')
    assert.equal(
      offsets,
      Array.from({ length: 1000 }, (_, i) => i),
      'offsets follow the order of the sends',
    )
    const stored = (await broker.fetch(topic, 0, 0, { maxMessages: 2000 })).records.map((r) => r.value.toString())
    assert.equal(
      stored,
      Array.from({ length: 1000 }, (_, i) => `v${i}`),
    )
  } finally {
    await producer.close()
    connection.close()
  }
})

test('bad producer options are refused by name', () => {
  const connection = new PubsubConnection(url)
  try {
    for (const options of [{ maxInFlight: 0 }, { maxBatchBytes: 1.5 }, { lingerMs: -1 }]) {
      try {
        new Producer(connection, options)
        assert.unreachable(`${JSON.stringify(options)} was taken`)
      } catch (error) {
        assert.instance(error, PubsubError)
        assert.match((error as Error).message, Object.keys(options)[0]!)
      }
    }
  } finally {
    connection.close()
  }
})

test('a memory broker restarted forgets the producer: it takes a new id, numbers its batches again and resends them', async () => {
  const away = await childBroker({ PUBSUB_STORAGE: 'memory' })
  const start = away.start
  let child: ChildKernel | undefined = await start()
  const connection = new PubsubConnection(away.url)
  const producer = new Producer(connection, { createPartitions: 1, retries: 40, maxBatchRecords: 10 })
  const topic = 'forgotten'
  try {
    const before = await Promise.all(Array.from({ length: 30 }, (_, i) => producer.send({ topic, messages: [{ value: `before-${i}` }] })))
    assert.is(before.at(-1)![0]!.offset, 29)
    child.child.kill('SIGKILL')
    await child.exited
    // Sent while the broker is away: these batches were numbered under the id the new broker never issued.
    const after = Array.from({ length: 40 }, (_, i) => producer.send({ topic, messages: [{ value: `after-${i}` }] }))
    child = await start()
    const offsets = (await Promise.all(after)).map(([r]) => r!.offset)
    assert.equal(
      offsets,
      Array.from({ length: 40 }, (_, i) => i),
      'the new broker appended the resent batches in the order they were sent',
    )
    const more = await producer.send({ topic, messages: [{ value: 'later' }] })
    assert.is(more[0]!.offset, 40, 'the producer goes on under its new id')
    const reply = await connection.call<{ records: Array<{ value: Buffer }> }>('Fetch', { topic, partition: 0, offset: 0, max_messages: 100 })
    assert.equal(
      reply.records.map((r) => Buffer.from(r.value).toString()),
      [...Array.from({ length: 40 }, (_, i) => `after-${i}`), 'later'],
      'each record once, in order',
    )
  } finally {
    await producer.close().catch(() => {})
    connection.close()
    child?.child.kill('SIGKILL')
    await child?.exited
    away.cleanup()
  }
})

test.after(async () => void (await kernel.stop()))
test.run()
