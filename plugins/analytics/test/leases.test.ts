// The lease store on PostgreSQL without a kernel: a worker whose lease expired and whose row was
// claimed again can neither complete it, fail it, nor extend it; the newer attempt completes it
// once, and a row handed off at insert is fenced exactly like a claimed one.
import { tmpdir } from 'node:os'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { openDatabase, type OpenDatabase } from '@armature/plugin-db'
import { createTestDatabase, type TestDatabase } from '../../db/test/support.ts'
import { builtInProcessing, type ProcessedEvent } from '../src/processor.ts'
import { rawRow } from '../src/ingest-request.ts'
import { LeaseStore, type ClaimedRow } from '../src/leases.ts'
import { writeLeasedRows, writePendingRows } from '../src/raw-writer.ts'
import { MIGRATIONS } from '../src/schema.ts'
import { CANONICAL_BODY } from './support.ts'

const USER = '2daba111-1e48-4ba1-8753-2daba1119a09'

let database: TestDatabase
let opened: OpenDatabase
let leases: LeaseStore

test.before(async () => {
  database = await createTestDatabase('armature_analytics_leases')
  opened = await openDatabase({ url: database.url, dataDir: tmpdir(), poolSize: 4, connectTimeoutMs: 1000 })
  await opened.database.migrate('analytics', MIGRATIONS)
  leases = new LeaseStore(opened.database, { maxAttempts: 5 })
})

test.after(async () => {
  await opened?.close()
  await database?.drop()
})

const sql = async <R>(text: string, params: unknown[] = []) => (await opened.database.query<R>(text, params)).rows
const row = (name: string) => rawRow(USER, {}, { ...CANONICAL_BODY, name }, null)
const processedOf = (claimed: ClaimedRow): ProcessedEvent =>
  builtInProcessing({ id: claimed.id, attempt: claimed.attempts, time: new Date(claimed.time), userId: claimed.user_id, headers: {}, body: claimed.data.body ?? {} })
const done = (claimed: ClaimedRow) => ({ id: claimed.id, attempt: claimed.attempts, time: new Date(claimed.time), processed: processedOf(claimed) })

/** Expires the row's lease now, as time passing would, and lets the rescuer return it to pending. */
async function expireAndRescue(id: string): Promise<void> {
  await sql(`UPDATE raw_analytics SET lease_expires_at = now() - interval '1 second' WHERE id = $1::bigint`, [id])
  const rescued = await leases.rescue()
  assert.is(rescued.pending, 1)
}

test('a stale attempt is fenced out of completion, failure and heartbeat; the newer one completes the row once', async () => {
  await writePendingRows(opened.database, [row('fenced')])
  const [first] = await leases.claim('worker-a', 10, 10_000)
  assert.ok(first)
  assert.is(first.attempts, 1)
  await expireAndRescue(first.id)
  const [second] = await leases.claim('worker-b', 10, 10_000)
  assert.is(second!.id, first.id)
  assert.is(second!.attempts, 2)

  // worker-a wakes up past its lease: everything it tries matches nothing.
  assert.equal([...(await leases.heartbeat('worker-a', [{ id: first.id, attempt: 1 }], 10_000))], [])
  const stale = await leases.complete([done(first)], [])
  assert.equal({ stored: stale.stored, fencedOut: stale.fencedOut }, { stored: 0, fencedOut: 1 })
  const staleFailure = await leases.complete([], [{ id: first.id, attempt: 1, error: 'late', delayMs: 0 }])
  assert.equal({ retried: staleFailure.retried, dead: staleFailure.dead }, { retried: 0, dead: 0 })
  assert.equal(await sql(`SELECT state, attempts, lease_owner FROM raw_analytics WHERE id = $1::bigint`, [first.id]), [{ state: 'leased', attempts: 2, lease_owner: 'worker-b' }])
  assert.equal(await sql(`SELECT count(*)::int AS n FROM analytics WHERE raw_id = $1::bigint`, [first.id]), [{ n: 0 }])

  // worker-b holds the lease: it extends it and completes the row, once.
  assert.equal([...(await leases.heartbeat('worker-b', [{ id: second!.id, attempt: 2 }], 10_000))], [second!.id])
  const completed = await leases.complete([done(second!)], [])
  assert.equal({ stored: completed.stored, fencedOut: completed.fencedOut }, { stored: 1, fencedOut: 0 })
  const again = await leases.complete([done(second!)], [])
  assert.equal({ stored: again.stored, fencedOut: again.fencedOut }, { stored: 0, fencedOut: 1 }, 'a done row is not completed twice')
  assert.equal(await sql(`SELECT attempt FROM analytics WHERE raw_id = $1::bigint`, [first.id]), [{ attempt: 2 }])
  assert.equal(await sql(`SELECT state FROM raw_analytics WHERE id = $1::bigint`, [first.id]), [{ state: 'done' }])
})

test('rows inserted leased answer their ids in order, and are fenced like claimed rows', async () => {
  const rows = [row('h0'), row('h1'), row('h2')]
  const ids = await writeLeasedRows(opened.database, rows, { owner: 'ingest-a', leaseMs: 10_000 })
  assert.is(ids.length, 3)
  const stored = await sql<{ id: string; name: string; state: string; attempts: number; lease_owner: string }>(
    `SELECT id::text AS id, data->'body'->>'name' AS name, state, attempts, lease_owner FROM raw_analytics WHERE id = ANY($1::bigint[]) ORDER BY id`,
    [ids],
  )
  assert.equal(
    ids.map((id) => stored.find((r) => r.id === id)!.name),
    ['h0', 'h1', 'h2'],
    'each id is the row at its position',
  )
  assert.ok(stored.every((r) => r.state === 'leased' && r.attempts === 1 && r.lease_owner === 'ingest-a'))
  // The instance dies: its leases expire, another instance claims the row, and the dead one's completion is refused.
  const handed: ClaimedRow = { id: ids[0]!, attempts: 1, time: rows[0]!.time, user_id: USER, data: { headers: {}, body: rows[0]!.body }, traceparent: null }
  await expireAndRescue(ids[0]!)
  const [reclaimed] = await leases.claim('worker-b', 1, 10_000)
  assert.is(reclaimed!.id, ids[0])
  // One completion holding both attempts of the row, and the instance's other two rows, still its own.
  const others = ids.slice(1).map((id, i): ClaimedRow => ({ ...handed, id, data: { headers: {}, body: rows[i + 1]!.body } }))
  const mixed = await leases.complete([done(handed), done(reclaimed!), ...others.map(done)], [])
  assert.equal({ stored: mixed.stored, fencedOut: mixed.fencedOut, times: mixed.storedTimes.length }, { stored: 3, fencedOut: 1, times: 3 })
  const attempts = await sql<{ raw_id: string; attempt: number }>(`SELECT raw_id::text AS raw_id, attempt FROM analytics WHERE raw_id = ANY($1::bigint[])`, [ids])
  assert.equal(Object.fromEntries(attempts.map((r) => [r.raw_id, r.attempt])), { [ids[0]!]: 2, [ids[1]!]: 1, [ids[2]!]: 1 })
})

test.run()
