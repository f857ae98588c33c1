// Packed record sets (src/packed.ts): what is packed comes back field for field; any cut or
// damaged set is refused as MALFORMED, never read as other records; and over the wire the broker
// takes packed and plain produce alike, answers Fetch in the form asked for, and refuses a
// request that is both or neither well-formed without appending anything.
import { join } from 'node:path'
import { startTestKernel, type TestKernel } from '@armature/testing'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { packProduce, packStored, unpackProduce, unpackStored } from '../src/packed.ts'
import { PubsubConnection, PubsubError, type Broker } from '../src/index.ts'
import type { ProduceRecord, StoredRecord } from '../src/record.ts'

const produced: ProduceRecord[] = [
  { value: Buffer.from('plain'), headers: {} },
  { key: Buffer.from('k1'), value: Buffer.alloc(0), headers: { trace: '00-abc', ключ: 'значение ✓' }, partition: 3, timestamp: 1_700_000_000_123 },
  { key: Buffer.alloc(0), value: Buffer.from([0, 255, 1]), headers: { empty: '' }, partition: 0 },
]

test('produce records come back as packed: keys (empty too), values, headers, partition and timestamp when set', () => {
  const back = unpackProduce(packProduce(produced))
  assert.is(back.length, 3)
  assert.equal(back[0], { value: Buffer.from('plain'), headers: {} })
  assert.equal(back[1], produced[1])
  assert.equal(back[2], produced[2])
  assert.ok(back[0]!.key === undefined && back[0]!.partition === undefined && back[0]!.timestamp === undefined)
})

test('stored records come back with offsets, timestamps and delivery counts', () => {
  const stored: StoredRecord[] = [
    { offset: 0, timestamp: 5, value: Buffer.from('a'), headers: {} },
    { offset: 2 ** 40 + 7, timestamp: 1_700_000_000_999, key: Buffer.from('k'), value: Buffer.from('b'), headers: { h: 'v' } },
  ]
  const seen: Array<[StoredRecord, number]> = []
  unpackStored(packStored(stored, [1, 4]), (record, deliveries) => seen.push([record, deliveries]))
  assert.equal(seen, [
    [stored[0], 1],
    [stored[1], 4],
  ])
  const empty: StoredRecord[] = []
  unpackStored(packStored([]), (record) => empty.push(record))
  assert.is(empty.length, 0)
})

test('every cut of a packed set, a wrong version and trailing bytes are MALFORMED', () => {
  const whole = packProduce(produced)
  for (let length = 0; length < whole.length; length++) {
    try {
      unpackProduce(whole.subarray(0, length))
      assert.unreachable(`a set cut to ${length} of ${whole.length} bytes was read`)
    } catch (error) {
      assert.instance(error, PubsubError, `cut to ${length}`)
      assert.is((error as PubsubError).code, 'MALFORMED')
    }
  }
  const wrongVersion = Buffer.from(whole)
  wrongVersion[0] = 9
  assert.throws(() => unpackProduce(wrongVersion), /version 9, expected 1/)
  assert.throws(() => unpackProduce(Buffer.concat([whole, Buffer.from([0])])), /1 bytes after the 3 records/)
  const tooMany = Buffer.from(whole)
  tooMany.writeUInt32LE(4, 1)
  assert.throws(() => unpackProduce(tooMany), /record 3 of 4 runs past the end/)
})

const k: TestKernel = await startTestKernel({ plugins: [join(import.meta.dirname, '..')], env: { GRPC_PORT: '0' } })
const broker = k.kernel.slots.get('pubsub')!.current!.api as Broker
const connection = new PubsubConnection(`grpc://127.0.0.1:${k.kernel.addresses.grpc}`)

test('over gRPC: packed and plain produce land alike; Fetch answers packed only when asked', async () => {
  const topic = `packed-${Date.now()}`
  await connection.call('CreateTopic', { name: topic, partitions: 1 })
  await connection.call('Produce', { topic, packed_records: packProduce([{ key: Buffer.from('p'), value: Buffer.from('packed'), headers: { a: 'b' } }]) })
  await connection.call('Produce', { topic, records: [{ value: Buffer.from('plain') }] })
  const plain = await connection.call<{ records: Array<{ value: Buffer; offset: string }>; packed_records: Buffer }>('Fetch', { topic, partition: 0, offset: '0' })
  assert.equal(
    plain.records.map((r) => [r.offset, r.value.toString()]),
    [
      ['0', 'packed'],
      ['1', 'plain'],
    ],
  )
  assert.is(plain.packed_records.length, 0)
  const packed = await connection.call<{ records: unknown[]; packed_records: Buffer }>('Fetch', { topic, partition: 0, offset: '0', packed: true })
  assert.is(packed.records.length, 0)
  const records: StoredRecord[] = []
  unpackStored(packed.packed_records, (record) => records.push(record))
  assert.equal(
    records.map((r) => [r.offset, r.key?.toString(), r.value.toString(), r.headers]),
    [
      [0, 'p', 'packed', { a: 'b' }],
      [1, undefined, 'plain', {}],
    ],
  )
})

test('over gRPC: a damaged packed set, or one beside plain records, is refused and appends nothing', async () => {
  const topic = `packed-bad-${Date.now()}`
  await connection.call('CreateTopic', { name: topic, partitions: 1 })
  const whole = packProduce(produced)
  for (const request of [
    { topic, packed_records: whole.subarray(0, whole.length - 1) },
    { topic, packed_records: whole, records: [{ value: Buffer.from('x') }] },
  ]) {
    const refused = await connection.call('Produce', request).catch((error: unknown) => error)
    assert.instance(refused, PubsubError)
    assert.is((refused as PubsubError).code, 'MALFORMED')
  }
  assert.is(broker.log(topic, 0).endOffset, 0)
})

test.after(async () => {
  connection.close()
  await k.stop()
})

test.run()
