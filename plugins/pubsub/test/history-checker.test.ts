// The workload checker's analysis on made-up histories: a clean one passes, and each kind of
// fault (a lost record, a read that goes back, a rewind below a commit, a skip, a wrong value,
// a producer's records out of send order) is reported as that fault.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { checkHistory, type ConsumerEvent, type Write } from './support/history-checker.ts'

const writes = (partition: number, count: number, producer = 'p1'): Write[] =>
  Array.from({ length: count }, (_, i) => ({ producer, seq: i, partition, offset: i, value: `v${partition}-${i}` }))
const assigned = (consumer: number, partition: number, offset: number, t: number): ConsumerEvent => ({ consumer, e: 'assigned', partition, offset, t })
const reads = (consumer: number, partition: number, from: number, to: number, t: number): ConsumerEvent[] =>
  Array.from({ length: to - from }, (_, i) => ({ consumer, e: 'read', partition, offset: from + i, value: `v${partition}-${from + i}`, t: t + i }))
const commit = (consumer: number, partition: number, offset: number, t: number): ConsumerEvent => ({ consumer, e: 'commit', offsets: [{ partition, offset }], t })

test('a clean history: everything read once, in order', () => {
  const report = checkHistory({
    writes: [...writes(0, 10), ...writes(1, 5)],
    events: [assigned(1, 0, 0, 1), ...reads(1, 0, 0, 10, 2), assigned(1, 1, 0, 3), ...reads(1, 1, 0, 5, 4)],
  })
  assert.ok(report.ok)
  assert.is(report.totals.read, 15)
  assert.is(report.totals.lost, 0)
})

test('a redelivery of records after the last commit (a consumer killed) is at-least-once, not a fault', () => {
  const events = [assigned(1, 0, 0, 1), ...reads(1, 0, 0, 8, 2), commit(1, 0, 5, 20), assigned(2, 0, 5, 30), ...reads(2, 0, 5, 10, 31)]
  const report = checkHistory({ writes: writes(0, 10), events })
  assert.ok(report.ok, 'ok')
  assert.is(report.partitions[0]!.redelivered, 3)
  assert.is(report.partitions[0]!.duplicatedBeyondAtLeastOnce, 0)
})

test('an acknowledged record nobody read is lost', () => {
  const report = checkHistory({ writes: writes(0, 10), events: [assigned(1, 0, 0, 1), ...reads(1, 0, 0, 7, 2)] })
  assert.not.ok(report.ok)
  assert.is(report.partitions[0]!.lost, 3)
  assert.equal(report.partitions[0]!.lostOffsets, [7, 8, 9])
})

test('a read that goes back within one hold is reordered; one that jumps ahead is reordered and skipped', () => {
  const back = checkHistory({ writes: writes(0, 4), events: [assigned(1, 0, 0, 1), ...reads(1, 0, 0, 3, 2), ...reads(1, 0, 0, 1, 9), ...reads(1, 0, 3, 4, 10)] })
  assert.not.ok(back.ok)
  assert.is(back.partitions[0]!.reordered, 1, 'offset 0 after 2')
  const ahead = checkHistory({ writes: writes(0, 4), events: [assigned(1, 0, 0, 1), ...reads(1, 0, 0, 1, 2), ...reads(1, 0, 2, 4, 3), ...reads(1, 0, 1, 2, 9)] })
  assert.not.ok(ahead.ok)
  assert.ok(ahead.partitions[0]!.skipped >= 1)
  assert.is(ahead.totals.lost, 0, 'nothing lost: every record was read, just not in order')
})

test('a hold that starts below what the group committed redelivers committed records: duplicated beyond at-least-once', () => {
  const events = [
    assigned(1, 0, 0, 1),
    ...reads(1, 0, 0, 10, 2),
    commit(1, 0, 10, 20),
    { consumer: 1, e: 'revoked', partition: 0, t: 21 } as ConsumerEvent,
    assigned(2, 0, 4, 30),
    ...reads(2, 0, 4, 10, 31),
  ]
  const report = checkHistory({ writes: writes(0, 10), events })
  assert.not.ok(report.ok)
  assert.is(report.partitions[0]!.duplicatedBeyondAtLeastOnce, 6)
})

test('a hold that starts past records nobody read skips them', () => {
  const events = [assigned(1, 0, 0, 1), ...reads(1, 0, 0, 3, 2), commit(1, 0, 3, 10), assigned(2, 0, 6, 20), ...reads(2, 0, 6, 10, 21)]
  const report = checkHistory({ writes: writes(0, 10), events })
  assert.not.ok(report.ok)
  assert.is(report.partitions[0]!.skipped, 3)
  assert.is(report.partitions[0]!.lost, 3)
})

test('a value other than the one acknowledged at that offset is inconsistent; a producer acknowledged out of send order is reported', () => {
  const wrong = checkHistory({
    writes: writes(0, 2),
    events: [assigned(1, 0, 0, 1), { consumer: 1, e: 'read', partition: 0, offset: 0, value: 'other', t: 2 }, ...reads(1, 0, 1, 2, 3)],
  })
  assert.not.ok(wrong.ok)
  assert.is(wrong.partitions[0]!.inconsistent, 1)
  const swapped = writes(0, 3)
  swapped[1] = { ...swapped[1]!, offset: 2 }
  swapped[2] = { ...swapped[2]!, offset: 1 }
  const report = checkHistory({
    writes: swapped,
    events: [assigned(1, 0, 0, 1), ...reads(1, 0, 0, 3, 2).map((e, i) => ({ ...e, value: swapped.find((w) => w.offset === i)!.value }))],
  })
  assert.is(report.producerReordered, 1)
  assert.not.ok(report.ok)
})

test.run()
