// Consumer groups: assignors, rebalances (eager and cooperative), generation fencing, session
// timeouts, committed offsets, seek and lag; push delivery with flow control, ackWait,
// maxDeliveries and nak with delay.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Broker, PubsubError, assign, tpKey, type Delivery, type PushOptions } from '../src/index.ts'

const brokers: Broker[] = []
const broker = (options: ConstructorParameters<typeof Broker>[0] = {}) => {
  const b = new Broker({ tickMs: 10, ...options })
  brokers.push(b)
  return b
}
test.after.each(async () => {
  await Promise.all(brokers.splice(0).map((b) => b.close()))
})
const keys = (tps: Array<{ topic: string; partition: number }>) => tps.map(tpKey).sort()
async function until(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const start = Date.now()
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

test('assignors: range gives consecutive ranges, round-robin deals in turn, cooperative-sticky keeps owners and balances', () => {
  const partitions = () => 5
  const members = [
    { id: 'a', topics: ['t'], owned: [] },
    { id: 'b', topics: ['t'], owned: [] },
  ]
  assert.equal(
    assign('range', members, partitions)
      .get('a')!
      .map((tp) => tp.partition),
    [0, 1, 2],
  )
  assert.equal(
    assign('round-robin', members, partitions)
      .get('b')!
      .map((tp) => tp.partition),
    [1, 3],
  )
  const owned = [0, 1, 2, 3, 4].map((partition) => ({ topic: 't', partition }))
  const sticky = assign(
    'cooperative-sticky',
    [
      { id: 'a', topics: ['t'], owned },
      { id: 'c', topics: ['t'], owned: [] },
    ],
    partitions,
  )
  assert.is(sticky.get('a')!.length, 3)
  assert.is(sticky.get('c')!.length, 2)
  for (const tp of sticky.get('a')!)
    assert.ok(
      owned.some((o) => o.partition === tp.partition),
      'a keeps partitions it had',
    )
})

test('cooperative-sticky: a joining member gets only the partitions that move; the others are never revoked', () => {
  const b = broker()
  b.createTopic('t', { partitions: 4 })
  const one = b.join('g', { topics: ['t'], sessionTimeoutMs: 10_000 })
  assert.is(one.assignment.length, 4)
  const two = b.join('g', { topics: ['t'], sessionTimeoutMs: 10_000 })
  assert.is(two.assignment.length, 0, 'nothing granted until the old owner lets go')
  const g = b.group('g')
  const beat = g.heartbeat(one.memberId, Date.now())
  assert.is(beat.revoking.length, 2, 'two partitions move')
  assert.is(beat.assignment.length, 4, 'the staying two were never taken away')
  assert.throws(() => g.commit(one.memberId, one.generation, [{ topic: 't', partition: 0, offset: 0 }], Date.now()), /ILLEGAL_GENERATION/)
  g.release(one.memberId, beat.revoking, Date.now())
  const after = g.heartbeat(two.memberId, Date.now())
  assert.equal(keys(after.assignment), keys(beat.revoking))
  assert.is(g.heartbeat(one.memberId, Date.now()).assignment.length, 2)
  assert.throws(
    () =>
      g.commit(two.memberId, after.generation, [{ topic: 't', partition: [0, 1, 2, 3].find((p) => !after.assignment.some((tp) => tp.partition === p))!, offset: 0 }], Date.now()),
    /NOT_OWNER/,
  )
})

test('range (eager): every partition is revoked on a rebalance before the new assignment is granted', () => {
  const b = broker()
  b.createTopic('t', { partitions: 4 })
  const one = b.join('g', { topics: ['t'], sessionTimeoutMs: 10_000, assignor: 'range' })
  b.join('g', { topics: ['t'], sessionTimeoutMs: 10_000, assignor: 'range' })
  const g = b.group('g')
  const beat = g.heartbeat(one.memberId, Date.now())
  assert.is(beat.revoking.length, 4, 'eager: all of them')
})

test('a member whose session times out is removed: its partitions go to the others, and it is fenced as unknown', async () => {
  const b = broker()
  b.createTopic('t', { partitions: 2 })
  const a = b.join('g', { topics: ['t'], sessionTimeoutMs: 150 })
  const c = b.join('g', { topics: ['t'], sessionTimeoutMs: 60_000 })
  const g = b.group('g')
  g.release(a.memberId, g.heartbeat(a.memberId, Date.now()).revoking, Date.now())
  await until(() => g.size === 1, 'the silent member to expire')
  assert.is(g.heartbeat(c.memberId, Date.now()).assignment.length, 2)
  assert.throws(
    () => g.heartbeat(a.memberId, Date.now()),
    (e: unknown) => e instanceof PubsubError && e.code === 'UNKNOWN_MEMBER',
  )
})

test('commits, seek (earliest, latest, offset, timestamp) and lag', async () => {
  const b = broker()
  b.createTopic('t', { partitions: 1 })
  const before = Date.now()
  for (let i = 0; i < 10; i++) await b.produce('t', [{ value: Buffer.from(String(i)), timestamp: before + i * 1000 }])
  const m = b.join('g', { topics: ['t'], sessionTimeoutMs: 10_000 })
  const g = b.group('g')
  g.commit(m.memberId, m.generation, [{ topic: 't', partition: 0, offset: 4 }], Date.now())
  assert.equal(g.lag()[0], { topic: 't', partition: 0, committed: 4, start: 0, end: 10, lag: 6 })
  assert.is(b.seek('g', 't', 0, 'latest'), 10)
  assert.is(b.seek('g', 't', 0, 'earliest'), 0)
  assert.is(b.seek('g', 't', 0, { offset: 7 }), 7)
  assert.is(b.seek('g', 't', 0, { timestamp: before + 2500 }), 3)
  assert.throws(() => b.seek('g', 't', 0, { offset: 11 }), /OFFSET_OUT_OF_RANGE/)
  assert.throws(() => g.commit(m.memberId, m.generation, [{ topic: 't', partition: 0, offset: 99 }], Date.now()), /OFFSET_OUT_OF_RANGE/)
})

function pushMember(b: Broker, group: string, options: Partial<PushOptions> & { mode?: 'shared' | 'exclusive' } = {}) {
  const got: Delivery[] = []
  const { mode, ...push } = options
  const state = b.join(group, {
    topics: ['t'],
    sessionTimeoutMs: 10_000,
    mode: mode ?? 'exclusive',
    push: { options: { maxAckPending: 10, ackWaitMs: 0, maxDeliveries: 0, ...push }, sink: (d) => void got.push(d) },
  })
  return { got, id: state.memberId }
}

test('push: a slow member never holds more than maxAckPending; acks let more through; the committed offset follows the acks', async () => {
  const b = broker()
  b.createTopic('t')
  for (let i = 0; i < 50; i++) await b.produce('t', [{ value: Buffer.from(String(i)) }])
  const m = pushMember(b, 'g', { maxAckPending: 5 })
  const g = b.group('g')
  await until(() => m.got.length === 5, 'five deliveries')
  await new Promise((resolve) => setTimeout(resolve, 50))
  assert.is(m.got.length, 5, 'no more than maxAckPending outstanding')
  assert.is(g.saturated(), 1)
  assert.is(g.describe(Date.now()).members[0]!.saturated, true)
  // Acknowledged out of order: the committed offset waits for the gap.
  g.ack(m.id, 't', 0, 1)
  assert.is(g.committed('t', 0) ?? 0, 0)
  g.ack(m.id, 't', 0, 0)
  assert.is(g.committed('t', 0), 2)
  await until(() => m.got.length === 7, 'two more after two acks')
  let acked = 2
  while (acked < 50) {
    const batch = m.got.slice(acked)
    assert.ok(m.got.length - acked <= 5, 'never more than maxAckPending outstanding')
    acked += batch.length
    for (const d of batch) g.ack(m.id, d.topic, d.partition, d.record.offset)
    await until(() => m.got.length > acked || acked === 50, 'more deliveries')
  }
  assert.equal(
    m.got.map((d) => d.record.offset),
    Array.from({ length: 50 }, (_, i) => i),
    'in order',
  )
  assert.is(g.committed('t', 0), 50)
})

test('push: ackRange acknowledges what the member holds in the range, out of order too, and nothing else', async () => {
  const b = broker()
  b.createTopic('t')
  for (let i = 0; i < 20; i++) await b.produce('t', [{ value: Buffer.from(String(i)) }])
  const m = pushMember(b, 'g', { maxAckPending: 8 })
  const g = b.group('g')
  await until(() => m.got.length === 8, 'eight deliveries')
  // 4..7 first: held, but behind the gap at 0..3, so nothing is committed; four more are let through.
  g.ackRange(m.id, 't', 0, 4, 4)
  assert.is(g.committed('t', 0) ?? 0, 0)
  await until(() => m.got.length === 12, 'four more after four acks')
  // A range reaching past what was delivered acknowledges only what the member holds: 0..3 and 8..11.
  g.ackRange(m.id, 't', 0, 0, 30)
  assert.is(g.committed('t', 0), 12)
  await until(() => m.got.length === 20, 'the rest')
  assert.is(g.describe(Date.now()).members[0]!.ackPending, 8)
  g.ackRange(m.id, 't', 0, 12, 8)
  assert.is(g.committed('t', 0), 20)
  assert.is(g.describe(Date.now()).members[0]!.ackPending, 0)
  assert.equal(
    m.got.map((d) => d.record.offset),
    Array.from({ length: 20 }, (_, i) => i),
    'each delivered once, in order',
  )
})

test('push: ackWait redelivers an unacknowledged record; after maxDeliveries it goes to <topic>.dead with the reason', async () => {
  const b = broker()
  b.createTopic('t')
  await b.produce('t', [{ value: Buffer.from('stuck') }, { value: Buffer.from('fine') }])
  const m = pushMember(b, 'g', { ackWaitMs: 60, maxDeliveries: 3 })
  const g = b.group('g')
  await until(() => m.got.length >= 2, 'first deliveries')
  g.ack(m.id, 't', 0, 1)
  await until(() => b.hasTopic('t.dead') && b.log('t.dead', 0).endOffset === 1, 'the dead letter')
  const stuck = m.got.filter((d) => d.record.offset === 0)
  assert.equal(
    stuck.map((d) => d.deliveries),
    [1, 2, 3],
  )
  const [dead] = (await b.fetch('t.dead', 0, 0)).records
  assert.is(dead!.value.toString(), 'stuck')
  assert.is(dead!.headers['x-pubsub-reason'], 'ackWait expired')
  assert.is(dead!.headers['x-pubsub-deliveries'], '3')
  assert.is(g.committed('t', 0), 2)
})

test('push: nak with a delay redelivers no sooner than the delay', async () => {
  const b = broker()
  b.createTopic('t')
  await b.produce('t', [{ value: Buffer.from('x') }])
  const m = pushMember(b, 'g')
  const g = b.group('g')
  await until(() => m.got.length === 1, 'the delivery')
  const at = Date.now()
  g.nak(m.id, 't', 0, 0, 120, Date.now())
  await until(() => m.got.length === 2, 'the redelivery')
  assert.ok(Date.now() - at >= 110)
  assert.is(m.got[1]!.deliveries, 2)
})

test('shared push: members compete for one partition; a leaving member’s unacknowledged records go to the other', async () => {
  const b = broker()
  b.createTopic('t')
  for (let i = 0; i < 20; i++) await b.produce('t', [{ value: Buffer.from(String(i)) }])
  const one = pushMember(b, 'q', { mode: 'shared', maxAckPending: 4 })
  const two = pushMember(b, 'q', { mode: 'shared', maxAckPending: 4 })
  const g = b.group('q')
  await until(() => one.got.length === 4 && two.got.length === 4, 'both busy')
  g.leave(one.id)
  const held = one.got.map((d) => d.record.offset)
  for (let round = 0; round < 20 && (g.committed('t', 0) ?? 0) < 20; round++) {
    for (const d of two.got) g.ack(two.id, d.topic, d.partition, d.record.offset)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  assert.is(g.committed('t', 0), 20)
  const redelivered = two.got.filter((d) => held.includes(d.record.offset))
  assert.is(redelivered.length, 4)
  assert.ok(redelivered.every((d) => d.deliveries === 2))
  assert.throws(() => b.join('q', { topics: ['t'], sessionTimeoutMs: 1000 }), /GROUP_MODE_MISMATCH/)
})

test('exclusive push across a rebalance: a moved partition waits until its old owner acknowledged what it held', async () => {
  const b = broker()
  b.createTopic('t', { partitions: 2 })
  for (let i = 0; i < 10; i++) await b.produce('t', [{ value: Buffer.from(String(i)), partition: i % 2 }])
  const one = pushMember(b, 'g', { maxAckPending: 100 })
  await until(() => one.got.length === 10, 'all ten to the first member')
  const two = pushMember(b, 'g', { maxAckPending: 100 })
  const g = b.group('g')
  await b.produce('t', [
    { value: Buffer.from('a'), partition: 0 },
    { value: Buffer.from('b'), partition: 1 },
  ])
  await new Promise((resolve) => setTimeout(resolve, 30))
  assert.is(two.got.length, 0, 'the new member waits while the old one holds records of the moved partition')
  for (const d of [...one.got]) g.ack(one.id, d.topic, d.partition, d.record.offset)
  await until(() => two.got.length === 1, 'the moved partition to reach the new member')
  await until(() => one.got.length === 11, 'the staying partition to keep flowing')
  assert.is.not(two.got[0]!.partition, one.got[10]!.partition)
})

test.run()
