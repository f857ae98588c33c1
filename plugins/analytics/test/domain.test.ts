// The domain without a kernel: the user agent parser, the backoff, normalising, and group commit's batching, bounds and isolation.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { GroupCommit, type GroupCommitOptions } from '../src/group-commit.ts'
import { normaliseKey, normaliseName } from '../src/processor.ts'
import { retryDelayMs } from '../src/backoff.ts'
import { parseTantumUserAgent } from '../src/user-agent.ts'
import { rawRow } from '../src/ingest-request.ts'

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

test.run()
