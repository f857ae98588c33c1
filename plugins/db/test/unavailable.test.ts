// Telling an outage from a bad statement, on errors real clients raise.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import pg from 'pg'
import { startTcpProxy, waitFor } from '@armature/testing'
import { DatabaseOutageError, isUnavailable, unavailableReason, watchAvailability, type AvailabilityStatus } from '../src/index.ts'
import { ADMIN_URL } from './support.ts'

async function errorOf(run: () => Promise<unknown>): Promise<unknown> {
  try {
    await run()
  } catch (error) {
    return error
  }
  throw new Error('expected a failure')
}

test('connection failures are outages; statement errors are not', async () => {
  const admin = new URL(ADMIN_URL)
  const refused = await errorOf(async () => {
    const pool = new pg.Pool({ connectionString: 'postgres://postgres@127.0.0.1:1/test', connectionTimeoutMillis: 2000 })
    try {
      await pool.query('SELECT 1')
    } finally {
      await pool.end()
    }
  })
  assert.is(unavailableReason(refused), 'connection refused')

  // A path that accepts and drops: pg's "Connection terminated", without a code.
  const tcp = await startTcpProxy({ host: admin.hostname, port: Number(admin.port || 5432) })
  tcp.cut()
  const through = new URL(ADMIN_URL)
  through.host = `${tcp.host}:${tcp.port}`
  const dropped = await errorOf(async () => {
    const pool = new pg.Pool({ connectionString: through.toString(), connectionTimeoutMillis: 2000 })
    try {
      await pool.query('SELECT 1')
    } finally {
      await pool.end()
    }
  })
  await tcp.close()
  assert.ok(isUnavailable(dropped), String(dropped))

  const client = new pg.Client({ connectionString: ADMIN_URL })
  await client.connect()
  try {
    const syntax = await errorOf(() => client.query('SELEC 1'))
    const range = await errorOf(() => client.query(`SELECT '+275760-09-13T00:00:00Z'::timestamptz`))
    const nul = await errorOf(() => client.query('SELECT $1::text', ['a\u0000b']))
    for (const error of [syntax, range, nul]) assert.is(isUnavailable(error), false, String(error))
  } finally {
    await client.end()
  }

  for (const code of ['57P01', '57P03', '08006', '08001', '53300']) assert.ok(isUnavailable(Object.assign(new Error('server said no'), { code })), code)
  assert.is(isUnavailable(Object.assign(new Error('duplicate key'), { code: '23505' })), false)
  assert.is(unavailableReason(new Error('wrapped', { cause: refused })), 'connection refused', 'causes are followed')
  assert.is(unavailableReason(new AggregateError([new Error('x'), refused])), 'connection refused', 'as are AggregateErrors')
  assert.is(isUnavailable(undefined), false)
})

test('a watch reports an outage once, throws it as a 503, and its probe sees the database back', async () => {
  const admin = new URL(ADMIN_URL)
  const tcp = await startTcpProxy({ host: admin.hostname, port: Number(admin.port || 5432) })
  const through = new URL(ADMIN_URL)
  through.host = `${tcp.host}:${tcp.port}`
  const pool = new pg.Pool({ connectionString: through.toString(), connectionTimeoutMillis: 2000 })
  pool.on('error', () => {})
  const changes: AvailabilityStatus[] = []
  const { database, watch } = watchAvailability(
    { kind: 'postgres', query: (sql: string, params?: unknown[]) => pool.query(sql, params) },
    { onChange: (status) => changes.push(status), probeIntervalMs: 100 },
  )
  try {
    await database.query('SELECT 1')
    tcp.cut()
    for (let i = 0; i < 3; i++) {
      const error = await errorOf(() => database.query('SELECT 1'))
      assert.instance(error, DatabaseOutageError)
      assert.is((error as DatabaseOutageError).status, 503)
      assert.equal((error as DatabaseOutageError).headers, { 'retry-after': '1' })
      assert.match((error as Error).message, /^the database \(PostgreSQL\) is unavailable: /)
    }
    assert.is(changes.length, 1, 'one change for three failed queries')
    assert.is(changes[0]!.ok, false)
    assert.match(changes[0]!.reason!, /^PostgreSQL: /)

    tcp.restore()
    await waitFor(() => changes.length === 2, { what: 'the probe to see the database back' })
    assert.equal(changes[1], { ok: true }, 'the probe noticed, with no query sent')
    assert.ok(watch.available)
    const statementError = await errorOf(() => database.query('SELEC 1'))
    assert.not.instance(statementError, DatabaseOutageError)
    assert.is(changes.length, 2)
  } finally {
    watch.stop()
    await pool.end()
    await tcp.close()
  }
})

test.run()
