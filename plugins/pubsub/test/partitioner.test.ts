// Write balancing: Kafka's murmur2 checked against kafkajs's Java-compatible DefaultPartitioner,
// explicit partitions, sticky and round-robin keyless records.
import { randomBytes } from 'node:crypto'
import { createRequire } from 'node:module'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Partitioner, keyPartition, murmur2 } from '../src/index.ts'

const require = createRequire(import.meta.url)
const { Partitioners } = require('kafkajs') as {
  Partitioners: { DefaultPartitioner: () => (args: { topic: string; partitionMetadata: Array<{ partitionId: number; leader: number }>; message: { key: Buffer } }) => number }
}

test('a keyed record lands where kafkajs DefaultPartitioner (Java-compatible) puts it, for 10,000 random keys and several partition counts', () => {
  const kafka = Partitioners.DefaultPartitioner()
  let checked = 0
  for (const partitions of [1, 3, 7, 12, 64]) {
    const partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({ partitionId, leader: 0 }))
    for (let i = 0; i < 2000; i++) {
      const key = randomBytes(1 + Math.floor(Math.random() * 40))
      assert.is(keyPartition(key, partitions), kafka({ topic: 't', partitionMetadata, message: { key } }), `key ${key.toString('hex')} on ${partitions} partitions`)
      checked++
    }
  }
  assert.is(checked, 10_000)
})

test("murmur2 matches Kafka's published values (Utils.murmur2 test vectors)", () => {
  // From Kafka's UtilsTest.testMurmur2.
  const cases: Array<[string, number]> = [
    ['21', -973932308],
    ['foobar', -790332482],
    ['a-little-bit-long-string', -985981536],
    ['a-little-bit-longer-string', -1486304829],
    ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
  ]
  for (const [text, expected] of cases) assert.is(murmur2(Buffer.from(text)), expected, text)
  assert.is(murmur2(Buffer.from([0x61, 0x62, 0x63])), murmur2(Buffer.from('abc')))
})

test('an explicit partition wins over the key; one out of range is refused by name', () => {
  const p = new Partitioner()
  assert.is(p.pick('t', 4, { partition: 2, key: Buffer.from('k') }, true), 2)
  assert.throws(() => p.pick('t', 4, { partition: 4 }, true), /INVALID_PARTITION: topic 't' has partitions 0\.\.3, got 4/)
  assert.throws(() => p.pick('t', 4, { partition: -1 }, true), /INVALID_PARTITION/)
})

test('sticky keyless: one partition for a whole batch, another for the next; round-robin deals in turn', () => {
  const sticky = new Partitioner('sticky')
  const batches: number[][] = []
  for (let b = 0; b < 20; b++) batches.push(Array.from({ length: 10 }, (_, i) => sticky.pick('t', 5, {}, i === 0)))
  for (const batch of batches) assert.is(new Set(batch).size, 1, 'one partition per batch')
  for (let b = 1; b < batches.length; b++) assert.is.not(batches[b]![0], batches[b - 1]![0], 'the next batch moves on')
  const rr = new Partitioner('round-robin')
  assert.equal(
    Array.from({ length: 7 }, () => rr.pick('t', 3, {}, true)),
    [0, 1, 2, 0, 1, 2, 0],
  )
})

test.run()
