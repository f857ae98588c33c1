import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { appendFileSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { DataDir, recover, segmentName } from '../src/data-dir.ts'
import { Store } from '../src/store.ts'
import { encodeMutation, unframe } from '../src/codec.ts'
import { CorruptDataError, UnencodableError, ValidationError } from '../src/errors.ts'
import { FileLog, LogUnavailableError, readLog } from '../src/file-log.ts'
import type { Json } from '../src/document.ts'
import { encodeImage } from '../src/image.ts'
import { parseFsyncPolicy } from '../src/fsync-policy.ts'
import { SNAPSHOT_FILE } from '../src/snapshot.ts'
import { tempDir } from './support/tmp.ts'

async function openStore(dir: string, fsync: 'always' | 'everysec' | 'no' = 'always') {
  const { dataDir, recovered } = await DataDir.open(dir, fsync)
  const store = new Store()
  store.load(recovered.image)
  store.setJournal(dataDir)
  return { store, dataDir, recovered }
}

test('every policy: writes replay from the log after close', async () => {
  for (const policy of ['always', 'everysec', 'no'] as const) {
    const dir = tempDir()
    const a = await openStore(dir, policy)
    const writes = []
    for (let i = 0; i < 50; i++) writes.push(a.store.put('c', `k${i % 10}`, { i }).durable)
    writes.push(a.store.delete('c', 'k3').durable)
    writes.push(a.store.patch('c', 'k4', { extra: true }).durable)
    await Promise.all(writes)
    await a.dataDir.close()
    const b = await openStore(dir, policy)
    assert.is(b.store.seq, a.store.seq, policy)
    assert.equal(b.store.image().documents, a.store.image().documents, policy)
    assert.is(b.recovered.report.replayed, 52, policy)
    await b.dataDir.close()
  }
})

test('a torn last record is dropped with a report, truncated, and appends continue after it', async () => {
  const dir = tempDir()
  const a = await openStore(dir)
  await a.store.put('c', 'one', 1).durable
  await a.store.put('c', 'two', 2).durable
  await a.dataDir.close()
  const segment = join(dir, segmentName(1))
  const full = encodeMutation({ seq: 3, op: 'delete', collection: 'c', id: 'one' })
  appendFileSync(segment, full.subarray(0, full.length - 3))
  const sizeWithTear = statSync(segment).size

  const b = await openStore(dir)
  assert.is(b.recovered.report.torn.length, 1)
  assert.is(b.recovered.report.torn[0]!.reason, 'incomplete record')
  assert.is(b.store.seq, 2)
  assert.is(b.store.get('c', 'one')?.value, 1)
  assert.ok(statSync(segment).size < sizeWithTear, 'torn bytes truncated')
  await b.store.put('c', 'three', 3).durable
  await b.dataDir.close()

  const c = await recover(dir, { repair: false })
  assert.is(c.report.torn.length, 0)
  assert.is(c.image.seq, 3)
})

test('a torn tail of zeros and a bad checksum at the end are torn, not fatal', async () => {
  const good = encodeMutation({ seq: 1, op: 'delete', collection: 'c', id: 'x' })
  const zeros = unframe(Buffer.concat([good, Buffer.alloc(4096)]), 'z')
  assert.is(zeros.records.length, 1)
  assert.ok(zeros.torn)
  const flipped = Buffer.from(encodeMutation({ seq: 2, op: 'delete', collection: 'c', id: 'y' }))
  flipped[flipped.length - 1]! ^= 0xff
  const bad = unframe(Buffer.concat([good, flipped]), 'b')
  assert.is(bad.records.length, 1)
  assert.is(bad.torn?.reason, 'checksum mismatch')
})

test('corruption in the middle of a log refuses to load instead of dropping later writes', async () => {
  const dir = tempDir()
  const a = await openStore(dir)
  for (let i = 0; i < 5; i++) await a.store.put('c', `k${i}`, i).durable
  await a.dataDir.close()
  const segment = join(dir, segmentName(1))
  const bytes = readFileSync(segment)
  bytes[20]! ^= 0xff
  writeFileSync(segment, bytes)
  try {
    await recover(dir, { repair: false })
    assert.unreachable('should throw')
  } catch (err) {
    assert.instance(err, CorruptDataError)
    assert.match((err as Error).message, /checksum mismatch at byte 0/)
  }
})

test('checkpoint writes a snapshot and compacts old segments; restore = snapshot + replay', async () => {
  const dir = tempDir()
  const a = await openStore(dir, 'everysec')
  for (let i = 0; i < 100; i++) a.store.put('c', `k${i % 7}`, i)
  const image = a.store.image()
  const checkpoint = a.dataDir.checkpoint(image)
  // Writes during the checkpoint land in the new segment.
  const during = a.store.put('c', 'during', true).durable
  await Promise.all([checkpoint, during])
  const files = readdirSync(dir).sort()
  assert.equal(files, [segmentName(101), SNAPSHOT_FILE])
  assert.is((await readLog(join(dir, segmentName(101)))).mutations.length, 1)
  await a.dataDir.close()

  const b = await openStore(dir)
  assert.is(b.recovered.report.snapshotSeq, 100)
  assert.is(b.recovered.report.replayed, 1)
  assert.equal(b.store.image().documents, a.store.image().documents)
  await b.dataDir.close()
})

test('a crash between segment switch and snapshot rename still restores everything', async () => {
  const dir = tempDir()
  const a = await openStore(dir)
  for (let i = 0; i < 10; i++) await a.store.put('c', `k${i}`, i).durable
  await a.dataDir.checkpoint(a.store.image())
  for (let i = 10; i < 20; i++) await a.store.put('c', `k${i}`, i).durable
  await a.dataDir.close()
  // Simulate the crash: a new (empty) segment exists, the snapshot still says seq 10.
  writeFileSync(join(dir, segmentName(21)), '')
  writeFileSync(join(dir, `${SNAPSHOT_FILE}.123.tmp`), '{"half')
  const b = await recover(dir, { repair: false })
  assert.is(b.image.seq, 20)
  assert.is(b.image.documents.length, 20)
})

test('every policy: an acknowledged append is in the file at once; one turn of appends is one batch, in order', async () => {
  for (const policy of ['always', 'everysec', 'no'] as const) {
    const path = join(tempDir(), 'log.aof')
    const log = new FileLog(path, policy)
    const put = (seq: number) => ({ seq, op: 'put' as const, doc: { collection: 'c', id: `d${seq}`, value: seq, version: 1, seq, createdAt: 0, updatedAt: 0, expiresAt: null } })
    await log.append(put(1))
    // Acknowledged means written: another reader sees the record before any sync or close.
    assert.equal(
      (await readLog(path)).mutations.map((m) => m.seq),
      [1],
      policy,
    )
    const acks: number[] = []
    await Promise.all(Array.from({ length: 100 }, (_, i) => log.append(put(i + 2)).then(() => acks.push(i + 2))))
    const { mutations, torn } = await readLog(path)
    assert.is(torn, undefined)
    assert.equal(
      mutations.map((m) => m.seq),
      Array.from({ length: 101 }, (_, i) => i + 1),
      policy,
    )
    assert.equal(
      acks,
      Array.from({ length: 100 }, (_, i) => i + 2),
      `${policy}: acknowledged in order`,
    )
    assert.is(log.bytesWritten, statSync(path).size)
    await log.close()
  }
})

test('a failed log write rejects the append; later writes are refused before they change memory', async () => {
  const dir = tempDir()
  const log = new FileLog(join(dir, 'missing-folder', 'x.aof'), 'always')
  const store = new Store({ journal: log })
  await store.put('c', 'x', 1).durable.then(
    () => assert.unreachable('write should fail'),
    (err: Error) => assert.match(err.message, /cannot open/),
  )
  const seq = store.seq
  assert.throws(
    () => store.put('c', 'y', 1),
    (err: Error) => err instanceof LogUnavailableError && /takes no more writes after a failure \(cannot open/.test(err.message),
  )
  assert.throws(
    () => store.delete('c', 'x'),
    (err: Error) => err instanceof LogUnavailableError,
  )
  assert.is(store.get('c', 'y'), undefined, 'the refused write is not in memory')
  assert.ok(store.get('c', 'x'), 'the refused delete is not applied')
  assert.is(store.seq, seq)
})

/** A value nested `depth` levels deep, built without recursion. */
function nested(depth: number): Json {
  let value: Json = 1
  for (let i = 0; i < depth; i++) value = { a: value }
  return value
}

test('a value the log cannot encode is refused before memory changes: PUT, PATCH, POST; reads, images and replay stay whole', async () => {
  const dir = tempDir()
  const { dataDir } = await DataDir.open(dir, 'always')
  const store = new Store({ journal: dataDir })
  await store.put('users', 'ann', { name: 'Ann' }).durable
  const seq = store.seq
  const deep = nested(20_000)
  const unencodable = (err: Error) => err instanceof UnencodableError && err instanceof ValidationError && /users\/deep cannot be encoded .*nothing was changed/.test(err.message)
  assert.throws(() => store.put('users', 'deep', deep), unencodable)
  assert.throws(() => store.create('users', 'deep', deep), unencodable)
  assert.throws(
    () => store.patch('users', 'ann', { more: deep }),
    (err: Error) => err instanceof ValidationError && /users\/ann .*nothing was changed/.test(err.message),
  )
  assert.is(store.get('users', 'deep'), undefined)
  assert.equal(store.get('users', 'ann')!.value, { name: 'Ann' })
  assert.is(store.seq, seq)
  // Everything that serialises the store still can.
  assert.equal(
    store.list('users').items.map((d) => d.id),
    ['ann'],
  )
  assert.ok(encodeImage(store.image()).length > 0)
  await dataDir.checkpoint(store.image())
  await store.put('users', 'bob', { name: 'Bob' }).durable
  await dataDir.close()
  const { image } = await recover(dir, { repair: false })
  assert.equal(image.documents.map((d) => d.id).sort(), ['ann', 'bob'])
  assert.is(image.seq, seq + 1, 'no sequence number was used by the refused writes')
})

test('fsync policy is validated with the key and the valid values', () => {
  assert.is(parseFsyncPolicy('always'), 'always')
  assert.throws(() => parseFsyncPolicy('sometimes', 'cache.fsync'), /cache\.fsync is "sometimes"; valid values: always, everysec, no/)
})

test.run()
