// Retention on PostgreSQL and on PGlite: done raw rows past ANALYTICS_RAW_RETENTION_MS are
// deleted by the kernel's own interval; younger done rows, and pending, leased and dead rows of
// any age, stay, and so do the analytics rows of the deleted ones.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { waitFor } from '@armature/testing'
import { startAnalytics, type AnalyticsKernel, type Backend } from './support.ts'

function retentionSuite(backend: Backend) {
  const test = suite(`retention on ${backend}`)
  let a: AnalyticsKernel
  test.before(async () => {
    // No workers: the rows below keep the states they are given.
    a = await startAnalytics(backend, {
      env: { ANALYTICS_WORKERS: '0', ANALYTICS_RAW_RETENTION_MS: '1h', ANALYTICS_RETENTION_INTERVAL_MS: '100', ANALYTICS_RETENTION_BATCH_ROWS: '2' },
    })
  })
  test.after(async () => {
    await a?.stop()
  })

  test('only done rows older than the retention are deleted, in batches, and their analytics rows stay', async () => {
    const rows: Array<[name: string, state: string, age: string]> = [
      ['old done 1', 'done', '2 hours'],
      ['old done 2', 'done', '3 hours'],
      ['old done 3', 'done', '1 day'],
      ['young done', 'done', '10 minutes'],
      ['old pending', 'pending', '2 hours'],
      ['old leased', 'leased', '2 hours'],
      ['old dead', 'dead', '2 hours'],
    ]
    const insert = `INSERT INTO raw_analytics (time, user_id, data, state, attempts, lease_owner, lease_expires_at)
       VALUES (now() - $3::interval, '2daba111-1e48-4ba1-8753-2daba1119a09', jsonb_build_object('headers', '{}'::jsonb, 'body', jsonb_build_object('name', $1::text)),
               $2, 1, CASE WHEN $2 = 'leased' THEN 'someone' END, CASE WHEN $2 = 'leased' THEN now() + interval '1 hour' END)
       RETURNING id, time, user_id`
    // The first old done row gets its analytics row in the same statement, before retention can see it.
    const [first] = await a.sql<{ id: string }>(
      `WITH raw AS (${insert}) INSERT INTO analytics (raw_id, time, user_id, data, attempt) SELECT id, time, user_id, '{}', 1 FROM raw RETURNING raw_id::text AS id`,
      rows[0],
    )
    for (const row of rows.slice(1)) await a.sql(insert, row)

    const names = async () => (await a.sql<{ name: string }>(`SELECT data->'body'->>'name' AS name FROM raw_analytics ORDER BY id`)).map((r) => r.name)
    // Three rows to delete with batches of two: a round goes on until a batch comes back short.
    await waitFor(async () => !(await names()).some((name) => name.startsWith('old done')), { what: 'the old done rows to be deleted' })
    assert.equal(await names(), ['young done', 'old pending', 'old leased', 'old dead'])
    assert.is((await a.sql(`SELECT 1 FROM analytics WHERE raw_id = $1::bigint`, [first!.id])).length, 1, 'the analytics row stays')

    const metrics = await (await fetch(`${a.url}/metrics`)).text()
    assert.match(metrics, /armature_analytics_retention_deleted_rows_total 3/)
  })

  return test
}

retentionSuite('postgres').run()
retentionSuite('pglite').run()
