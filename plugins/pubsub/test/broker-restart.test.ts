// The broker in a child kernel with file storage (fsync always), killed with SIGKILL while an
// idempotent producer has batches in flight, then started again on the same port and data
// folder: the producer's resent batches are appended once (its sequences came back from the
// log), and every acknowledged record is there, at the offset it was acknowledged with.
import { type ChildKernel } from '@armature/testing'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Producer, PubsubConnection } from '../src/index.ts'
import { childBroker } from './support/child-broker.ts'

test('kill -9 of a file-storage broker under an idempotent producer: after the restart each record is stored once, none lost', async () => {
  const broker = await childBroker({ PUBSUB_STORAGE: 'file', PUBSUB_FSYNC: 'always' })
  const start = broker.start
  let kernel: ChildKernel | undefined = await start()
  const connection = new PubsubConnection(broker.url)
  const producer = new Producer(connection, { createPartitions: 2, retries: 60 })
  const topic = 'restart'
  const TOTAL = 2000
  const acked: Array<{ value: string; partition: number; offset: number }> = []
  try {
    const sends: Array<Promise<void>> = []
    const inFlight = new Set<Promise<void>>()
    let killedAt = -1
    for (let i = 0; i < TOTAL; i++) {
      const sent = producer
        .send({ topic, messages: [{ key: `k${i % 13}`, value: `v${i}` }] })
        .then(([r]) => void acked.push({ value: `v${i}`, partition: r!.partition, offset: r!.offset }))
      sends.push(sent)
      inFlight.add(sent)
      const settled = () => void inFlight.delete(sent)
      sent.then(settled, settled)
      // Up to 64 in flight; kill the broker once a few hundred are acknowledged, while batches are in flight.
      while (inFlight.size > 64) {
        await Promise.race(inFlight)
        if (acked.length >= 300 && killedAt < 0) {
          killedAt = acked.length
          kernel.child.kill('SIGKILL')
          await kernel.exited
          kernel = await start()
        }
      }
    }
    await Promise.all(sends)
    assert.ok(killedAt > 0 && killedAt < TOTAL, `the kill came with batches in flight (${killedAt} of ${TOTAL} acknowledged)`)
    const stored = new Map<string, Array<{ partition: number; offset: number }>>()
    for (let partition = 0; partition < 2; partition++) {
      for (let offset = 0; ;) {
        const reply = await connection.call<{ records: Array<{ value: Buffer; offset: string }>; high_watermark: string }>('Fetch', {
          topic,
          partition,
          offset,
          max_messages: 1000,
        })
        for (const r of reply.records) {
          const value = Buffer.from(r.value).toString()
          stored.set(value, [...(stored.get(value) ?? []), { partition, offset: Number(r.offset) }])
        }
        offset += reply.records.length
        if (offset >= Number(reply.high_watermark)) break
      }
    }
    const twice = [...stored].filter(([, at]) => at.length > 1)
    assert.equal(twice, [], 'no record stored twice')
    assert.is(acked.length, TOTAL)
    for (const a of acked) assert.equal(stored.get(a.value), [{ partition: a.partition, offset: a.offset }], `${a.value} where it was acknowledged`)
  } finally {
    await producer.close().catch(() => {})
    connection.close()
    kernel?.child.kill('SIGKILL')
    await kernel?.exited
    broker.cleanup()
  }
})

test.run()
