// File storage reading back from its segment files: with small segments and a small cache, a
// fetch at any offset, a timestamp lookup and retention by bytes go through the sparse index to
// the files, and give the same answers as the records produced, before and after a restart; a
// restart takes sealed segments from their index files and gives the answers a full read gives.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Broker, PubsubError } from '../src/index.ts'
import { FilePartition } from '../src/storage/file-partition.ts'
import { FileStorage } from '../src/storage/file.ts'

const CACHE = 2048
const open = (dir: string) => new Broker({ storage: new FileStorage({ dir, fsync: 'no', segmentBytes: 16 * 1024, cacheBytes: CACHE }) })
const storeOf = (broker: Broker) => broker.log('t', 0).store as FilePartition

interface Sent {
  value: string
  key: string | undefined
  header: string
  timestamp: number
}

/** 3000 records of 20 to 400 bytes, some keyed, with timestamps that mostly rise and sometimes step back. */
function records(): Sent[] {
  let seed = 7
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31
  let clock = 1_700_000_000_000
  return Array.from({ length: 3000 }, (_, i) => {
    clock += Math.floor(random() * 20) - (i % 97 === 0 ? 500 : 0)
    return { value: `v${i}:${'x'.repeat(Math.floor(random() * 380))}`, key: i % 3 === 0 ? `k${i}` : undefined, header: String(i), timestamp: clock }
  })
}

async function readAll(broker: Broker, from: number, maxMessages: number): Promise<string[]> {
  const values: string[] = []
  for (let offset = from; ;) {
    const { records, highWatermark } = await broker.fetch('t', 0, offset, { maxMessages, maxBytes: 8192 })
    for (const [i, r] of records.entries()) {
      assert.is(r.offset, offset + i, 'dense offsets in order')
      values.push(r.value.toString())
    }
    offset += records.length
    if (offset >= highWatermark) return values
    assert.ok(records.length > 0, `a fetch at ${offset} below the high watermark ${highWatermark} returned nothing`)
  }
}

function check(broker: Broker, sent: Sent[], label: string) {
  const store = storeOf(broker)
  assert.ok(store.segmentCount > 20, `${label}: many segments (${store.segmentCount})`)
  assert.ok(store.cachedBytes <= CACHE, `${label}: the cache holds ${store.cachedBytes} bytes, at most ${CACHE}`)
  // Single records anywhere: key, value and headers as produced.
  for (const offset of [0, 1, 57, 1234, 2047, 2998, 2999]) {
    const [r] = store.read(offset, 1, 1)
    assert.is(r?.offset, offset, `${label}: record ${offset}`)
    assert.is(r!.value.toString(), sent[offset]!.value)
    assert.is(r!.key?.toString(), sent[offset]!.key)
    assert.is(r!.headers.n, sent[offset]!.header)
    assert.is(r!.timestamp, sent[offset]!.timestamp)
  }
  // The first record with a timestamp at or after t, as a scan of what was sent finds it.
  for (const i of [0, 5, 96, 97, 98, 1000, 2500, 2999]) {
    for (const t of [sent[i]!.timestamp, sent[i]!.timestamp + 1, sent[i]!.timestamp - 1]) {
      const expected = sent.findIndex((s) => s.timestamp >= t)
      assert.is(store.offsetForTimestamp(t), expected === -1 ? sent.length : expected, `${label}: offsetForTimestamp(${t})`)
    }
  }
  assert.is(store.offsetForTimestamp(Number.MAX_SAFE_INTEGER), sent.length)
  assert.is(store.oldestTimestamp(), sent[0]!.timestamp)
}

test('every record comes back from the segment files, at any offset and by timestamp, before and after a restart', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'armature-pubsub-segments-'))
  const sent = records()
  const first = open(dir)
  first.createTopic('t', { partitions: 1 })
  for (let i = 0; i < sent.length; i += 50) {
    await first.produce(
      't',
      sent
        .slice(i, i + 50)
        .map((s) => ({ value: Buffer.from(s.value), ...(s.key ? { key: Buffer.from(s.key) } : {}), headers: { n: s.header }, timestamp: s.timestamp, partition: 0 })),
    )
  }
  try {
    check(first, sent, 'running')
    assert.equal(
      await readAll(first, 0, 77),
      sent.map((s) => s.value),
    )
    assert.equal(
      await readAll(first, 1999, 500),
      sent.slice(1999).map((s) => s.value),
    )
  } finally {
    await first.close()
  }
  const second = open(dir)
  try {
    check(second, sent, 'restarted')
    assert.equal(
      await readAll(second, 0, 500),
      sent.map((s) => s.value),
    )
    const [{ offset }] = await second.produce('t', [{ value: Buffer.from('after'), partition: 0 }])
    assert.is(offset, sent.length)
    assert.equal(await readAll(second, sent.length - 2, 10), [sent.at(-2)!.value, sent.at(-1)!.value, 'after'])
  } finally {
    await second.close()
  }
})

test('retention by bytes reads sizes from the files, deletes whole segments, and keeps the rest readable', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'armature-pubsub-segments-'))
  const broker = open(dir)
  const maxBytes = 40 * 1024
  let retainedBytes: number | undefined
  try {
    broker.createTopic('t', { partitions: 1, retention: { maxBytes } })
    const value = (i: number) => `r${i}:${'y'.repeat(100 + (i % 50))}`
    for (let i = 0; i < 2000; i += 20) {
      await broker.produce(
        't',
        Array.from({ length: 20 }, (_, j) => ({ value: Buffer.from(value(i + j)), partition: 0 })),
      )
    }
    const store = storeOf(broker)
    assert.ok(store.bytes <= maxBytes, `retained ${store.bytes} bytes, at most ${maxBytes}`)
    assert.ok(store.startOffset > 1000, `the oldest records went (start ${store.startOffset})`)
    const files = readdirSync(join(dir, 'topics', 't', '0'))
    const segmentFiles = files.filter((n) => n.endsWith('.log'))
    assert.ok(segmentFiles.length <= Math.ceil(maxBytes / (16 * 1024)) + 2, `old segment files deleted (${segmentFiles.length} left)`)
    assert.is(segmentFiles.length, store.segmentCount)
    assert.is(files.filter((n) => n.endsWith('.index')).length, segmentFiles.length - 1, 'index files go with their segments; the open one has none')
    retainedBytes = store.bytes
    const kept = await readAll(broker, store.startOffset, 100)
    assert.equal(
      kept,
      Array.from({ length: 2000 - store.startOffset }, (_, i) => value(store.startOffset + i)),
    )
    const below = await broker.fetch('t', 0, store.startOffset - 1).catch((error: unknown) => error)
    assert.instance(below, PubsubError)
    assert.is((below as PubsubError).code, 'OFFSET_OUT_OF_RANGE')
  } finally {
    await broker.close()
  }
  const reopened = open(dir)
  try {
    const store = storeOf(reopened)
    const start = store.startOffset
    assert.is(store.bytes, retainedBytes, 'the retained bytes, counted again from the start inside the first segment')
    assert.equal(
      await readAll(reopened, start, 300),
      Array.from({ length: 2000 - start }, (_, i) => `r${start + i}:${'y'.repeat(100 + ((start + i) % 50))}`),
    )
  } finally {
    await reopened.close()
  }
})

test('a start takes sealed segments from their index files; a missing or damaged one is read and written again', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'armature-pubsub-segments-'))
  const options = { segmentBytes: 8192, cacheBytes: 1024 }
  const value = (i: number) => Buffer.from(`i${i}:${'z'.repeat(i % 200)}`)
  const first = new FilePartition(dir, options, async () => {})
  for (let offset = 0, sequence = 0; offset < 1500; offset += 30, sequence += 30) {
    const batch = { producerId: 7 + (offset % 2), baseSequence: sequence, count: 30 }
    first.append(
      Array.from({ length: 30 }, (_, j) => ({ offset: offset + j, timestamp: 1_000 + offset + j, value: value(offset + j), headers: {} })),
      batch,
    )
    first.write()
  }
  first.truncateBefore(45)
  const facts = (p: FilePartition) => ({
    start: p.startOffset,
    end: p.endOffset,
    bytes: p.bytes,
    segments: p.segmentCount,
    batches: p.restoredBatches(),
    values: p.read(45, 2000, Infinity).map((r) => r.value.toString()),
    at: [p.offsetForTimestamp(1_000 + 700), p.oldestTimestamp()],
  })
  await first.close()

  const indexFiles = () =>
    readdirSync(dir)
      .filter((n) => n.endsWith('.index'))
      .sort()
  const sealed = readdirSync(dir).filter((n) => n.endsWith('.log')).length - 1
  assert.ok(sealed > 10, `many sealed segments (${sealed})`)
  assert.is(indexFiles().length, sealed, 'each sealed segment has its index file')

  // Read whole (no index files): what the scan finds is the truth the indexed start must match.
  for (const name of indexFiles()) rmSync(join(dir, name))
  const scanned = new FilePartition(dir, options, async () => {})
  assert.equal(scanned.opened, { indexed: 0, scanned: sealed })
  const truth = facts(scanned)
  assert.is(truth.values.length, 1500 - 45)
  assert.is(truth.batches.length, (1500 - 60) / 30, 'the batches from the retained start on')
  await scanned.close()
  assert.is(indexFiles().length, sealed, 'the start wrote the index files it read around')

  const indexed = new FilePartition(dir, options, async () => {})
  // The first segment holds the start (45, inside it): it is read, to count bytes from there.
  assert.equal(indexed.opened, { indexed: sealed - 1, scanned: 1 })
  assert.equal(facts(indexed), truth)
  await indexed.close()

  // A cut index file, one of another shape and one for another size are not used; the segment is read instead.
  const [, second, third, fourth] = indexFiles()
  writeFileSync(join(dir, second!), '{"version":1,')
  const other = JSON.parse(readFileSync(join(dir, third!), 'utf8')) as { written: number }
  writeFileSync(join(dir, third!), JSON.stringify({ ...other, written: other.written + 1 }))
  const shaped = JSON.parse(readFileSync(join(dir, fourth!), 'utf8')) as object
  writeFileSync(join(dir, fourth!), JSON.stringify({ ...shaped, entries: null }))
  const repaired = new FilePartition(dir, options, async () => {})
  assert.equal(repaired.opened, { indexed: sealed - 4, scanned: 4 })
  assert.equal(facts(repaired), truth)
  await repaired.close()
})

test.run()
