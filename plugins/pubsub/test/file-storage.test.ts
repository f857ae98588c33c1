// File storage across a restart: records, committed offsets and group generations come back;
// a torn tail (a half-written frame) is cut off and the log continues after the last whole record.
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, statSync, truncateSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Broker } from '../src/index.ts'
import { FileStorage } from '../src/storage/file.ts'

const open = (dir: string) => new Broker({ storage: new FileStorage({ dir, fsync: 'always' }) })

test('records, committed offsets and generations survive a restart; a torn tail is dropped', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'armature-pubsub-file-'))
  const first = open(dir)
  first.createTopic('t', { partitions: 2 })
  for (let i = 0; i < 100; i++) await first.produce('t', [{ key: Buffer.from(`k${i}`), value: Buffer.from(String(i)), headers: { n: String(i) } }])
  const member = first.join('g', { topics: ['t'], sessionTimeoutMs: 10_000 })
  first.group('g').commit(member.memberId, member.generation, [{ topic: 't', partition: 0, offset: 7 }], Date.now())
  const ends = [first.log('t', 0).endOffset, first.log('t', 1).endOffset]
  await first.close()

  // A crash in the middle of a write: half a frame at the end of partition 0's segment.
  const segmentDir = join(dir, 'topics', 't', '0')
  const segment = readdirSync(segmentDir).find((n) => n.endsWith('.log'))!
  appendFileSync(join(segmentDir, segment), Buffer.from([200, 0, 0, 0, 1, 2, 3]))

  const second = open(dir)
  try {
    assert.equal([second.log('t', 0).endOffset, second.log('t', 1).endOffset], ends, 'every whole record is back')
    assert.is(ends[0]! + ends[1]!, 100)
    const { records } = await second.fetch('t', 0, 0, { maxMessages: 1000 })
    assert.equal(
      records.map((r) => r.offset),
      Array.from({ length: ends[0]! }, (_, i) => i),
    )
    assert.is(records[0]!.headers.n, records[0]!.value.toString())
    assert.ok(records[0]!.key!.toString().startsWith('k'))
    assert.is(second.group('g').committed('t', 0), 7, 'the committed offset survived')
    const next = second.join('g', { topics: ['t'], sessionTimeoutMs: 10_000 })
    assert.ok(next.generation > member.generation, 'a restart continues the generations, so members of before are fenced')
    const [{ offset }] = await second.produce('t', [{ value: Buffer.from('after'), partition: 0 }])
    assert.is(offset, ends[0], 'appends continue after the last whole record')
  } finally {
    await second.close()
  }
  const third = open(dir)
  try {
    const { records } = await third.fetch('t', 0, ends[0]!)
    assert.equal(
      records.map((r) => r.value.toString()),
      ['after'],
      'the record written after the torn tail is readable after another restart',
    )
  } finally {
    await third.close()
  }
})

test('with everysec, an acknowledged produce is in the segment file (one write for the produces of a turn), not only in memory', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'armature-pubsub-file-'))
  const broker = new Broker({ storage: new FileStorage({ dir, fsync: 'everysec' }) })
  try {
    broker.createTopic('w', { partitions: 1 })
    const segmentDir = join(dir, 'topics', 'w', '0')
    const fileBytes = () =>
      readdirSync(segmentDir)
        .filter((n) => n.endsWith('.log'))
        .reduce((n, name) => n + readFileSync(join(segmentDir, name)).length, 0)
    // Concurrent produces, as a pipelined stream sends them: each resolves only once its frames were written.
    const produced = Array.from({ length: 50 }, (_, i) => broker.produce('w', [{ value: Buffer.from(`v${i}`), headers: {} }]).then(() => fileBytes()))
    const sizes = await Promise.all(produced)
    const total = fileBytes()
    assert.ok(
      sizes.every((size) => size === total),
      `every acknowledgement came after the write: ${sizes.join(',')} of ${total}`,
    )
    assert.ok(total > 0)
    const log = broker.log('w', 0)
    const more = broker.produce('w', [{ value: Buffer.from('one more'), headers: {} }])
    assert.is(log.endOffset, 51, 'the offset is taken at once')
    assert.equal(log.read(50, 10, Infinity), [], 'a record is not readable before it is written: no consumer sees what a crash could take back')
    await more
    assert.ok(fileBytes() > total, 'a later produce is written before its acknowledgement too')
    assert.equal(
      log.read(50, 10, Infinity).map((r) => r.value.toString()),
      ['one more'],
    )
  } finally {
    await broker.close()
  }
  const reopened = new Broker({ storage: new FileStorage({ dir, fsync: 'everysec' }) })
  try {
    const { records } = await reopened.fetch('w', 0, 0, { maxMessages: 100 })
    assert.equal(
      records.map((r) => r.value.toString()),
      [...Array.from({ length: 50 }, (_, i) => `v${i}`), 'one more'],
    )
  } finally {
    await reopened.close()
  }
})

test('idempotent producer state survives a restart: a batch sent again is answered with its offsets, not appended; ids are not handed out again', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'armature-pubsub-idem-'))
  const batch = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({ value: Buffer.from(`r${from + i}`), partition: 0 }))
  const first = open(dir)
  first.createTopic('t', { partitions: 1 })
  const { producerId } = first.initProducer()
  await first.produce('t', batch(0, 3), { producerId, baseSequence: 0 })
  const second = await first.produce('t', batch(3, 2), { producerId, baseSequence: 3 })
  await first.close()

  const after = open(dir)
  try {
    const again = await after.produce('t', batch(3, 2), { producerId, baseSequence: 3 })
    assert.equal(again, second, 'the retried batch is answered with the offsets it got before the restart')
    assert.is(after.log('t', 0).endOffset, 5, 'and not appended again')
    const gap = await after.produce('t', batch(9, 1), { producerId, baseSequence: 9 }).catch((error: Error) => error)
    assert.match(String(gap), /OUT_OF_ORDER_SEQUENCE/, 'a gap is still refused')
    const next = await after.produce('t', batch(5, 1), { producerId, baseSequence: 5 })
    assert.equal(next, [{ partition: 0, offset: 5 }], 'the next batch continues the sequence')
    assert.ok(after.initProducer().producerId > producerId, 'a new producer gets an id never handed out before')
  } finally {
    await after.close()
  }

  // A batch cut short by a torn tail was never acknowledged: sent again, it is appended.
  const segmentDir = join(dir, 'topics', 't', '0')
  const torn = open(dir)
  await torn.produce('t', batch(6, 2), { producerId, baseSequence: 6 })
  await torn.close()
  const segment = join(
    segmentDir,
    readdirSync(segmentDir)
      .filter((n) => n.endsWith('.log'))
      .sort()
      .at(-1)!,
  )
  const { size } = statSync(segment)
  truncateSync(segment, size - 3)
  const last = open(dir)
  try {
    assert.is(last.log('t', 0).endOffset, 7, 'the torn record is gone')
    const resent = await last.produce('t', batch(6, 2), { producerId, baseSequence: 6 })
    assert.equal(
      resent.map((r) => r.offset),
      [7, 8],
      'the unacknowledged batch is appended after the last whole record',
    )
  } finally {
    await last.close()
  }
})

test.run()
