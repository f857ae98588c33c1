// The domain without a kernel: the user agent parser, the backoff, normalising, and group commit's batching, bounds and isolation.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { GroupCommit, type GroupCommitOptions } from '../src/group-commit.ts'
import { normaliseKey, normaliseName } from '../src/processor.ts'
import { retryDelayMs } from '../src/backoff.ts'
import { parseTantumUserAgent } from '../src/user-agent.ts'
import { rawRow } from '../src/ingest-request.ts'
import { Handoff } from '../src/handoff.ts'
import { recordset } from '../src/raw-writer.ts'
import type { ClaimedRow } from '../src/leases.ts'

test('X-Tantum-UserAgent is parsed into its fields, the build split from the version', () => {
  assert.equal(parseTantumUserAgent('DeviceID=G1752G75-7C56-4G49-BGFA5ACBGC963471;DeviceType=iOS;OsVersion=15.5;AppVersion=4.3 (725)'), {
    deviceId: 'G1752G75-7C56-4G49-BGFA5ACBGC963471',
    deviceType: 'iOS',
    osVersion: '15.5',
    appVersion: '4.3',
    appBuild: '725',
  })
  assert.equal(parseTantumUserAgent('devicetype=Android; appversion=2.0'), { deviceId: null, deviceType: 'Android', osVersion: null, appVersion: '2.0', appBuild: null })
  assert.equal(parseTantumUserAgent(undefined).deviceType, null)
  assert.equal(parseTantumUserAgent('garbage;;=x').deviceType, null)
})

test('a row keeps its arrival time in whole seconds, never rounded up past the arrival', () => {
  const row = rawRow('u', {}, {}, null, new Date('2026-12-01T12:00:59.700Z'))
  assert.is(row.time.toISOString(), '2026-12-01T12:00:59.000Z')
})

test('module/type/event are lower-cased keys, names keep their case', () => {
  assert.is(normaliseKey('  Settings  Page '), 'settings_page')
  assert.is(normaliseKey(''), null)
  assert.is(normaliseKey({}), null)
  assert.is(normaliseName('  подтверждение   выхода '), 'подтверждение выхода')
})

test('the retry delay doubles, is capped, and is jittered within its upper half', () => {
  const options = { baseMs: 100, maxMs: 1000 }
  assert.equal(
    [1, 2, 3, 4, 5, 30].map((a) => retryDelayMs(a, options, () => 1)),
    [100, 200, 400, 800, 1000, 1000],
  )
  assert.equal(
    [1, 2, 5].map((a) => retryDelayMs(a, options, () => 0)),
    [50, 100, 500],
  )
})

function committer(overrides: Partial<GroupCommitOptions<number>> = {}) {
  const batches: number[][] = []
  const gc = new GroupCommit<number>({
    maxRows: 10,
    maxDelayMs: 5,
    maxConcurrentBatches: 1,
    maxWaiting: 100,
    commitTimeoutMs: 1000,
    write: async (rows) => {
      batches.push(rows)
    },
    isOutage: (error) => (error as Error).message === 'down',
    failure: (reason) => new Error(reason),
    ...overrides,
  })
  return { gc, batches }
}

const outcome = (p: Promise<void>) =>
  p.then(
    () => 'ok',
    (e: Error) => e.message,
  )

test('rows added together share batches of at most maxRows, each promise settled after its batch', async () => {
  const { gc, batches } = committer()
  const results = await Promise.all(Array.from({ length: 25 }, (_, i) => outcome(gc.add(i))))
  assert.equal(results, Array(25).fill('ok'))
  assert.equal(batches.map((b) => b.length).sort(), [10, 10, 5])
  assert.equal(
    batches.flat().sort((a, b) => a - b),
    Array.from({ length: 25 }, (_, i) => i),
  )
})

test('past maxWaiting a row is refused at once; a commit past the deadline answers timeout', async () => {
  let release!: () => void
  const { gc } = committer({ maxWaiting: 3, commitTimeoutMs: 50, write: () => new Promise<void>((r) => (release = r)) })
  const first = [outcome(gc.add(1)), outcome(gc.add(2)), outcome(gc.add(3))]
  assert.is(await outcome(gc.add(4)), 'overloaded')
  assert.equal(await Promise.all(first), ['timeout', 'timeout', 'timeout'])
  release()
})

test('an outage fails the whole batch; another error is retried row by row so only the bad row fails', async () => {
  const outage = committer({ write: async () => Promise.reject(new Error('down')) })
  assert.equal(await Promise.all([1, 2].map((i) => outcome(outage.gc.add(i)))), ['outage', 'outage'])
  const bad = committer({
    write: async (rows) => {
      if (rows.includes(2)) throw new Error('refused')
    },
  })
  assert.equal(await Promise.all([1, 2, 3].map((i) => outcome(bad.gc.add(i)))), ['ok', 'error', 'ok'])
})

test('close writes what is queued and refuses later rows', async () => {
  const { gc, batches } = committer({ maxDelayMs: 10_000 })
  const pending = outcome(gc.add(7))
  await gc.close()
  assert.is(await pending, 'ok')
  assert.equal(batches, [[7]])
  assert.is(await outcome(gc.add(8)), 'closed')
})

const handed = (ids: string[]): ClaimedRow[] => ids.map((id) => ({ id, attempts: 1, time: new Date(0), user_id: 'u', data: { headers: {}, body: {} }, traceparent: null }))

test('the hand-off holds at most its capacity, queued and reserved together; a cancelled write gives its room back', () => {
  let woken = 0
  const handoff = new Handoff({ owner: 'me', leaseMs: 10_000, capacity: 5, marginMs: 1000, onRows: () => woken++ })
  const a = handoff.reserve(3)!
  assert.equal(a.lease, { owner: 'me', leaseMs: 10_000 })
  assert.is(handoff.reserve(3), undefined, 'no room for 3 more beside 3 reserved')
  const b = handoff.reserve(2)!
  b.cancel()
  b.cancel()
  assert.is(handoff.reserved, 3, 'a cancel counts once')
  a.fill(handed(['1', '2', '3']))
  assert.is(woken, 1)
  assert.is(handoff.queued, 3)
  assert.is(handoff.reserve(3), undefined, 'queued rows hold their room')
  assert.equal(
    handoff.take(2).map((row) => row.id),
    ['1', '2'],
  )
  assert.equal(
    handoff.take(5).map((row) => row.id),
    ['3'],
  )
  assert.ok(handoff.reserve(5), 'taken rows give their room back')
})

test('a handed-off row whose lease has run too short is dropped, left to the rescuer', () => {
  let expired = 0
  const handoff = new Handoff({ owner: 'me', leaseMs: 1000, capacity: 10, marginMs: 1000, onRows: () => {}, onExpired: (n) => (expired += n) })
  handoff.reserve(2)!.fill(handed(['1', '2']))
  assert.equal(handoff.take(10), [], 'a lease no longer than the margin is never started')
  assert.is(expired, 2)
  assert.is(handoff.queued, 0)
})

test('closing the hand-off refuses new rows and waits for the writes in flight', async () => {
  const handoff = new Handoff({ owner: 'me', leaseMs: 10_000, capacity: 10, marginMs: 100, onRows: () => {} })
  const inFlight = handoff.reserve(1)!
  let closed = false
  const closing = handoff.close().then(() => (closed = true))
  assert.is(handoff.reserve(1), undefined)
  // Every queued callback has run: close is still waiting, on the write and nothing else.
  await new Promise((r) => setImmediate(r))
  assert.is(closed, false, 'a write in flight keeps close waiting')
  inFlight.fill(handed(['7']))
  await closing
  assert.equal(
    handoff.take(10).map((row) => row.id),
    ['7'],
    'what the last write brought is still there to process',
  )
})

test("the insert batch is one JSON array with each row's data as its JSON", () => {
  const row = rawRow(
    '2daba111-1e48-4ba1-8753-2daba1119a09',
    { 'User-Agent': 'a"b' },
    { name: 'x\ny' },
    '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    new Date('2026-12-01T12:00:00Z'),
  )
  const parsed = JSON.parse(recordset([row, { ...row, traceparent: null }])) as Array<{ t: string; u: string; d: unknown; p: string | null }>
  assert.equal(parsed[0], { t: '2026-12-01T12:00:00.000Z', u: row.userId, d: { headers: { 'User-Agent': 'a"b' }, body: { name: 'x\ny' } }, p: row.traceparent })
  assert.is(parsed[1]!.p, null)
})

test.run()
