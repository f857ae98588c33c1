// Workers killed with SIGKILL mid-batch, again and again, in child kernels sharing one
// PostgreSQL database; then three instances together. Every raw row ends in analytics exactly
// once, and no lease is left past its expiry plus the rescue interval.
import { cpSync, mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { spawnKernel, startTestKernel, waitFor, type ChildKernel } from '@armature/testing'
import { createTestDatabase, type TestDatabase } from '../../db/test/support.ts'
import { CANONICAL_BODY, DB_DIR, metric, PLUGIN_DIR, post, startAnalytics, type AnalyticsKernel } from './support.ts'

// Slows each row so that a kill lands inside a batch.
const SLOW_PLUGIN = `import { definePlugin } from '@armature/core'
export default definePlugin({
  name: 'slow',
  version: '1.0.0',
  uses: ['analytics'],
  setup(ctx) {
    ctx.use('analytics').addProcessor('slow', () => new Promise((resolve) => setTimeout(resolve, 3)), { signal: ctx.signal })
  },
})
`
const LEASE = { ANALYTICS_LEASE_MS: '1500', ANALYTICS_HEARTBEAT_MS: '300', ANALYTICS_RESCUE_INTERVAL_MS: '200', ANALYTICS_POLL_INTERVAL_MS: '100', ANALYTICS_MAX_ATTEMPTS: '50' }

let database: TestDatabase
let ingest: AnalyticsKernel
let dropIn: string

test.before(async () => {
  database = await createTestDatabase('armature_analytics_workers')
  // The ingesting kernel processes nothing: the children do.
  ingest = await startAnalytics('postgres', { database, env: { ANALYTICS_WORKERS: '0' } })
  dropIn = mkdtempSync(join(tmpdir(), 'analytics-workers-'))
  const copy = (from: string, name: string) =>
    cpSync(from, join(dropIn, name), { recursive: true, filter: (src) => !/[\\/](node_modules|test)([\\/]|$)/.test(src.slice(from.length)) })
  copy(DB_DIR, 'db')
  copy(PLUGIN_DIR, 'analytics')
  mkdirSync(join(dropIn, 'slow'))
  writeFileSync(join(dropIn, 'slow', 'index.ts'), SLOW_PLUGIN)
})

test.after(async () => {
  await ingest?.stop()
  await database?.drop()
  if (dropIn) rmSync(dropIn, { recursive: true, force: true })
})

const sql = <R = Record<string, unknown>>(text: string, params?: unknown[]) => ingest.sql<R>(text, params)
const count = async (text: string) => Number((await sql<{ n: string }>(text))[0]!.n)

async function send(n: number, prefix: string): Promise<void> {
  for (let i = 0; i < n; i += 100) {
    const answers = await Promise.all(Array.from({ length: Math.min(100, n - i) }, (_, j) => post(ingest.url, { body: { ...CANONICAL_BODY, name: `${prefix}${i + j}` } })))
    assert.ok(
      answers.every((r) => r.status === 202),
      'ingest accepted every row',
    )
  }
}

const worker = (env: Record<string, string> = {}): Promise<ChildKernel> =>
  spawnKernel({ args: ['--plugins', dropIn], env: { DATABASE_URL: database.url, ANALYTICS_CLAIM_BATCH: '40', ...LEASE, ...env } })

async function assertExactlyOnce(total: number): Promise<void> {
  assert.is(await count('SELECT count(*) AS n FROM raw_analytics'), total)
  assert.is(await count('SELECT count(*) AS n FROM analytics'), total, 'one analytics row per raw row')
  assert.is(await count('SELECT count(DISTINCT raw_id) AS n FROM analytics'), total)
  assert.is(await count(`SELECT count(*) AS n FROM raw_analytics WHERE state <> 'done'`), 0)
  assert.is(await count('SELECT coalesce(sum(count), 0) AS n FROM analytics_rollups'), total, 'each row counted once in the rollups')
}

test('kill -9 a worker process mid-batch, five times: every raw row is in analytics exactly once', async () => {
  await send(1500, 'k')
  let kills = 0
  let leasedAtKill = 0
  for (let round = 0; round < 5; round++) {
    const before = await count('SELECT count(*) AS n FROM analytics')
    if (before === 1500) break
    const child = await worker()
    await waitFor(async () => (await count('SELECT count(*) AS n FROM analytics')) > before + 50, { timeoutMs: 30_000, what: 'the worker to make progress' })
    leasedAtKill += await count(`SELECT count(*) AS n FROM raw_analytics WHERE state = 'leased'`)
    child.child.kill('SIGKILL')
    await child.exited
    kills++
  }
  assert.ok(kills >= 2, `killed ${kills} workers before the rows ran out`)
  assert.ok(leasedAtKill > 0, 'the kills left leased rows behind')
  // A last worker, never killed, drains what is left, rescuing the dead workers' leases.
  const last = await worker()
  try {
    await waitFor(async () => (await count(`SELECT count(*) AS n FROM raw_analytics WHERE state <> 'done'`)) === 0, { timeoutMs: 40_000, what: 'every row done' })
    await assertExactlyOnce(1500)
    assert.ok((await count('SELECT count(*) AS n FROM raw_analytics WHERE attempts > 1')) > 0, 'rows of killed batches were attempted again')
    assert.ok((await metric(last.url, 'armature_analytics_rescued_rows_total')) > 0, 'the rescuer returned expired leases')
    assert.is(await count(`SELECT count(*) AS n FROM raw_analytics WHERE state = 'leased' AND lease_expires_at < now() - interval '200 milliseconds'`), 0)
  } finally {
    last.child.kill('SIGTERM')
    await last.exited
  }
})

async function sendTo(url: string, n: number, prefix: string): Promise<void> {
  for (let i = 0; i < n; i += 100) {
    const answers = await Promise.all(Array.from({ length: Math.min(100, n - i) }, (_, j) => post(url, { body: { ...CANONICAL_BODY, name: `${prefix}${i + j}` } })))
    assert.ok(
      answers.every((r) => r.status === 202),
      'ingest accepted every row',
    )
  }
}

test('kill -9 an instance holding rows handed from its own ingest: their leases are rescued and each row is processed once', async () => {
  const total = await count('SELECT count(*) AS n FROM raw_analytics')
  // One worker slot and slow rows: most of what this instance ingests waits in its hand-off, leased to it.
  const child = await worker({ ANALYTICS_WORKERS: '1', ANALYTICS_HANDOFF_ROWS: '1000' })
  let handedOff: number
  try {
    await sendTo(child.url, 400, 'h')
    handedOff = await metric(child.url, 'armature_analytics_handed_off_rows_total')
  } finally {
    child.child.kill('SIGKILL')
    await child.exited
  }
  assert.ok(handedOff > 0, 'rows went straight from ingest to the workers')
  const leased = await count(`SELECT count(*) AS n FROM raw_analytics WHERE state = 'leased' AND lease_owner IS NOT NULL`)
  assert.ok(leased > 0, 'the kill left handed-off rows leased to the dead instance')
  const last = await worker()
  try {
    await waitFor(async () => (await count(`SELECT count(*) AS n FROM raw_analytics WHERE state <> 'done'`)) === 0, { timeoutMs: 30_000, what: 'every row done' })
    await assertExactlyOnce(total + 400)
    assert.ok((await metric(last.url, 'armature_analytics_rescued_rows_total')) > 0, "the rescuer returned the dead instance's leases")
  } finally {
    last.child.kill('SIGTERM')
    await last.exited
  }
})

test('a graceful stop processes the rows in its hand-off before the process exits: none is left leased', async () => {
  const total = await count('SELECT count(*) AS n FROM raw_analytics')
  const child = await worker({ ANALYTICS_WORKERS: '1', ANALYTICS_HANDOFF_ROWS: '1000', ANALYTICS_LEASE_MS: '60000', ANALYTICS_HEARTBEAT_MS: '1000' })
  await sendTo(child.url, 300, 'g')
  assert.ok((await count(`SELECT count(*) AS n FROM raw_analytics WHERE state = 'leased'`)) > 0, 'rows were in hand when the stop began')
  child.child.kill('SIGTERM')
  assert.is((await child.exited).code, 0)
  // With a one-minute lease, a row left leased would still be leased now: no rescuer could have run.
  assert.is(await count(`SELECT count(*) AS n FROM raw_analytics WHERE state <> 'done'`), 0)
  await assertExactlyOnce(total + 300)
})

test('three instances process one database together, each row once', async () => {
  const kernels = await Promise.all(
    [0, 1, 2].map(() => startTestKernel({ plugins: [DB_DIR, PLUGIN_DIR], env: { DATABASE_URL: database.url, ANALYTICS_CLAIM_BATCH: '25', ...LEASE } })),
  )
  try {
    const before = await count('SELECT count(*) AS n FROM raw_analytics')
    // Each instance ingests a third.
    const answers = await Promise.all(
      Array.from({ length: 900 }, (_, i) =>
        fetch(`${kernels[i % 3]!.url}/analytics`, {
          method: 'POST',
          headers: { 'x-tantum-authorization': '2daba111-1e48-4ba1-8753-2daba1119a09', 'content-type': 'application/json' },
          body: JSON.stringify({ ...CANONICAL_BODY, name: `t${i}` }),
        }),
      ),
    )
    assert.ok(answers.every((r) => r.status === 202))
    await waitFor(async () => (await count(`SELECT count(*) AS n FROM raw_analytics WHERE state <> 'done'`)) === 0, { timeoutMs: 30_000, what: 'every row done' })
    await assertExactlyOnce(before + 900)
    const processed = await Promise.all(kernels.map((k) => metric(k.url, 'armature_analytics_processed_rows_total')))
    assert.is(
      processed.reduce((a, b) => a + b, 0),
      900,
      `processed per instance: ${processed.join(', ')}`,
    )
  } finally {
    await Promise.all(kernels.map((k) => k.stop()))
  }
})

test('on PostgreSQL the NOTIFY of a committed batch wakes the dispatcher, with polling as good as off', async () => {
  const k = await startTestKernel({ plugins: [DB_DIR, PLUGIN_DIR], env: { DATABASE_URL: database.url, ANALYTICS_POLL_INTERVAL_MS: '1h' } })
  try {
    const before = await count('SELECT count(*) AS n FROM analytics')
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => post(k.url, { body: { ...CANONICAL_BODY, name: `w${i}` } })))
    assert.ok(answers.every((r) => r.status === 202))
    await waitFor(async () => (await count('SELECT count(*) AS n FROM analytics')) === before + 10, { what: 'the rows processed after the NOTIFY' })
  } finally {
    await k.stop()
  }
})

test.run()
