// The broker's logs: dense offsets, order under concurrent producers, limits, the byte budget,
// idempotent produce, long-poll fetch, retention and OFFSET_OUT_OF_RANGE.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Broker, PubsubError, keyPartition } from '../src/index.ts'

const brokers: Broker[] = []
const broker = (options: ConstructorParameters<typeof Broker>[0] = {}) => {
  const b = new Broker(options)
  brokers.push(b)
  return b
}
test.after.each(async () => {
  await Promise.all(brokers.splice(0).map((b) => b.close()))
})
const v = (s: string) => Buffer.from(s)
const refusal = async (call: () => unknown): Promise<PubsubError> => {
  try {
    await call()
  } catch (error) {
    assert.instance(error, PubsubError)
    return error as PubsubError
  }
  throw new Error('expected a refusal')
}

test('offsets are dense per partition and each of 8 concurrent producers sees its records in order', async () => {
  const b = broker()
  b.createTopic('orders', { partitions: 3 })
  await Promise.all(
    Array.from({ length: 8 }, async (_, producer) => {
      for (let i = 0; i < 200; i++) {
        await b.produce('orders', [{ key: v(`p${producer}`), value: v(`${producer}:${i}`) }])
        if (i % 17 === 0) await new Promise((resolve) => setImmediate(resolve))
      }
    }),
  )
  let total = 0
  for (let partition = 0; partition < 3; partition++) {
    const { records, highWatermark } = await b.fetch('orders', partition, 0, { maxMessages: 10_000, maxBytes: 10_000_000 })
    assert.equal(
      records.map((r) => r.offset),
      Array.from({ length: records.length }, (_, i) => i),
      'dense offsets from 0',
    )
    assert.is(highWatermark, records.length)
    total += records.length
    const last = new Map<string, number>()
    for (const r of records) {
      const [producer, seq] = r.value.toString().split(':')
      assert.is(keyPartition(v(`p${producer}`), 3), partition, 'the key decides the partition')
      assert.ok(Number(seq) > (last.get(producer!) ?? -1), `producer ${producer} in order`)
      last.set(producer!, Number(seq))
    }
  }
  assert.is(total, 1600)
})

test('bad input is refused by name and stored records stay intact', async () => {
  const b = broker({ autoCreateTopics: false, maxRecordBytes: 1000, maxBatchBytes: 3000 })
  b.createTopic('t', { partitions: 2 })
  await b.produce('t', [{ value: v('kept'), partition: 0 }])
  assert.is((await refusal(() => b.produce('nope', [{ value: v('x') }]))).code, 'UNKNOWN_TOPIC')
  assert.is((await refusal(() => b.produce('t', [{ value: v('x'), partition: 2 }]))).code, 'INVALID_PARTITION')
  assert.is((await refusal(() => b.produce('t', [{ value: Buffer.alloc(2000) }]))).code, 'RECORD_TOO_LARGE')
  assert.is(
    (
      await refusal(() =>
        b.produce(
          't',
          Array.from({ length: 5 }, () => ({ value: Buffer.alloc(900) })),
        ),
      )
    ).code,
    'BATCH_TOO_LARGE',
  )
  assert.is((await refusal(() => b.produce('t', []))).code, 'INVALID_ARGUMENT')
  assert.is((await refusal(() => b.produce('t', [{ value: 'text' as never }]))).code, 'MALFORMED')
  assert.is((await refusal(() => b.fetch('t', 0, 5))).code, 'OFFSET_OUT_OF_RANGE')
  assert.is((await refusal(() => b.fetch('t', 0, -1))).code, 'OFFSET_OUT_OF_RANGE')
  assert.is((await refusal(() => b.createTopic('bad name'))).code, 'INVALID_TOPIC')
  assert.is((await refusal(() => b.createTopic('t'))).code, 'TOPIC_EXISTS')
  assert.is((await refusal(() => b.createTopic('z', { partitions: 0 }))).code, 'INVALID_PARTITION')
  const { records } = await b.fetch('t', 0, 0)
  assert.equal(
    records.map((r) => r.value.toString()),
    ['kept'],
  )
})

test('the global byte budget refuses with a retriable BROKER_FULL, and takes records again once retention freed space', async () => {
  const b = broker({ maxTotalBytes: 5000 })
  b.createTopic('big', { partitions: 1 })
  let full: PubsubError | undefined
  for (let i = 0; i < 100 && !full; i++) await b.produce('big', [{ value: Buffer.alloc(400) }]).catch((error: PubsubError) => (full = error))
  assert.ok(full, 'the budget ran out')
  assert.is(full!.code, 'BROKER_FULL')
  assert.ok(full!.retriable)
  assert.ok(b.bytes <= 5000, `holds ${b.bytes} bytes, the budget is 5000`)
  b.createTopic('small', { partitions: 1, retention: { maxRecords: 2 } })
  b.deleteTopic('big')
  for (let i = 0; i < 50; i++) await b.produce('small', [{ value: Buffer.alloc(400) }])
  assert.is(b.log('small', 0).startOffset, 48, 'retention by count kept the last two')
})

test('idempotent producer: a retried batch is appended once and answered with its first offsets; a gap is refused', async () => {
  const b = broker()
  b.createTopic('t', { partitions: 2 })
  const { producerId } = b.initProducer()
  const batch = [
    { value: v('a'), partition: 1 },
    { value: v('b'), partition: 1 },
  ]
  const first = await b.produce('t', batch, { producerId, baseSequence: 0 })
  const again = await b.produce('t', batch, { producerId, baseSequence: 0 })
  assert.equal(again, first)
  await b.produce('t', [{ value: v('c'), partition: 1 }], { producerId, baseSequence: 2 })
  assert.is((await refusal(() => b.produce('t', [{ value: v('e'), partition: 1 }], { producerId, baseSequence: 5 }))).code, 'OUT_OF_ORDER_SEQUENCE')
  assert.is((await refusal(() => b.produce('t', [{ value: v('e'), partition: 1 }], { producerId: 999, baseSequence: 0 }))).code, 'UNKNOWN_PRODUCER')
  const { records } = await b.fetch('t', 1, 0)
  assert.equal(
    records.map((r) => r.value.toString()),
    ['a', 'b', 'c'],
  )
})

test('long-poll fetch waits for a record and answers at once when one arrives; it returns empty when the wait ends', async () => {
  const b = broker()
  b.createTopic('t')
  const waiting = b.fetch('t', 0, 0, { maxWaitMs: 10_000 })
  setTimeout(() => void b.produce('t', [{ value: v('late') }]), 30)
  const { records } = await waiting
  assert.equal(
    records.map((r) => r.value.toString()),
    ['late'],
  )
  const empty = await b.fetch('t', 0, 1, { maxWaitMs: 50 })
  assert.is(empty.records.length, 0)
  const bounded = await b.fetch('t', 0, 0, { maxMessages: 1, maxBytes: 1 })
  assert.is(bounded.records.length, 1, 'the first record comes even when larger than maxBytes')
})

test('retention by age and bytes moves the log start; a fetch behind it is OFFSET_OUT_OF_RANGE naming the retained range', async () => {
  const b = broker({ tickMs: 10 })
  b.createTopic('aged', { retention: { maxAgeMs: 50 } })
  b.createTopic('sized', { retention: { maxBytes: 1000 } })
  await b.produce('aged', [{ value: v('old'), timestamp: Date.now() - 1000 }, { value: v('new') }])
  for (let i = 0; i < 20; i++) await b.produce('sized', [{ value: Buffer.alloc(100) }])
  assert.ok(b.log('sized', 0).store.bytes <= 1000)
  assert.ok(b.log('sized', 0).startOffset > 0)
  const start = Date.now()
  while (b.log('aged', 0).startOffset < 1 && Date.now() - start < 5000) await new Promise((resolve) => setTimeout(resolve, 10))
  assert.is(b.log('aged', 0).startOffset, 1, 'the old record aged out')
  const error = await refusal(() => b.fetch('aged', 0, 0))
  assert.is(error.code, 'OFFSET_OUT_OF_RANGE')
  assert.match(error.message, /outside the retained range 1\.\.2/)
  assert.is(b.resolveOffset('aged', 0, 'earliest'), 1)
  assert.is(b.resolveOffset('aged', 0, 'latest'), 2)
})

test('delayed appends reach their topic no sooner than the delay, in order', async () => {
  const b = broker({ tickMs: 10 })
  b.createTopic('t')
  const at = Date.now()
  await b.delayed.schedule('t', [{ value: v('one') }, { value: v('two') }], 150)
  assert.is(b.log('t', 0).endOffset, 0)
  const { records } = await b.fetch('t', 0, 0, { maxWaitMs: 5000 })
  const more = records.length < 2 ? (await b.fetch('t', 0, records.length, { maxWaitMs: 5000 })).records : []
  assert.ok(Date.now() - at >= 140, 'held back for the delay')
  assert.equal(
    [...records, ...more].map((r) => r.value.toString()),
    ['one', 'two'],
  )
})

test.run()
