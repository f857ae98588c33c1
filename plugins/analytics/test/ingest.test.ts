// POST /analytics on PostgreSQL and on PGlite: the canonical request is stored as JSON and
// answered 202 only after its commit; bad headers, bodies and content types are refused and store nothing.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { CANONICAL_BODY, CANONICAL_HEADERS, post, startAnalytics, type AnalyticsKernel, type Backend } from './support.ts'

function ingestSuite(backend: Backend) {
  const test = suite(`ingest on ${backend}`)
  let a: AnalyticsKernel
  test.before(async () => {
    // Processing off: the stored raw rows stay as ingest wrote them.
    a = await startAnalytics(backend, { env: { ANALYTICS_WORKERS: '0' } })
  })
  test.after(async () => {
    await a?.stop()
  })

  const count = async () => (await a.sql<{ n: number }>('SELECT count(*)::int AS n FROM raw_analytics'))[0]!.n

  test('the canonical request is answered 202 {"status":"OK"} and stored with its headers and body as JSON', async () => {
    const before = Date.now()
    const res = await post(a.url)
    assert.is(res.status, 202)
    assert.equal(await res.json(), { status: 'OK' })
    const rows = await a.sql<{ user_id: string; data: { headers: Record<string, string>; body: unknown }; body_type: string; state: string; attempts: number; ms: number }>(
      `SELECT user_id::text, data, jsonb_typeof(data->'body') AS body_type, state, attempts, (extract(epoch FROM time) * 1000)::float8 AS ms FROM raw_analytics`,
    )
    assert.is(rows.length, 1)
    const row = rows[0]!
    assert.is(row.user_id, CANONICAL_HEADERS['X-Tantum-Authorization'])
    assert.is(row.body_type, 'object', 'the body is stored as JSON, not as a string')
    assert.equal(row.data.body, CANONICAL_BODY)
    assert.is(row.data.headers['X-Tantum-UserAgent'], CANONICAL_HEADERS['X-Tantum-UserAgent'])
    assert.is(row.data.headers['Content-Type'], 'application/json')
    assert.is(row.data.headers['User-Agent'], 'node', 'the allow-list spelling is the stored key')
    const allowed = ['User-Agent', 'X-Tantum-UserAgent', 'Content-Type', 'Accept-Language', 'X-Forwarded-For']
    assert.equal(
      Object.keys(row.data.headers).filter((name) => !allowed.includes(name)),
      [],
    )
    assert.not.ok('X-Tantum-Authorization' in row.data.headers, 'headers outside the allow-list are not kept')
    assert.is(row.state, 'pending')
    assert.is(row.attempts, 0)
    // time has whole seconds (timestamptz(0)) from the server clock.
    assert.ok(row.ms >= Math.floor(before / 1000) * 1000 - 1000 && row.ms <= Date.now() + 1000, `time ${row.ms} is the server's now`)
  })

  test('a missing or malformed X-Tantum-Authorization is a 400 naming the header', async () => {
    for (const value of [null, '', 'not-a-uuid', '2daba111-1e48-4ba1-8753-2daba1119a0', "2daba111-1e48-4ba1-8753-2daba1119a09'; drop table x"]) {
      const res = await post(a.url, { headers: { 'X-Tantum-Authorization': value } })
      assert.is(res.status, 400, String(value))
      const body = (await res.json()) as { error: string; field?: string }
      assert.match(body.error, /X-Tantum-Authorization/)
      assert.is(body.field, 'X-Tantum-Authorization')
    }
  })

  test('bodies that are not a JSON object, too large, or not JSON content are refused and store nothing', async () => {
    const before = await count()
    const cases: Array<[number, Parameters<typeof post>[1], RegExp]> = [
      [400, { rawBody: '{"module":' }, /not valid JSON/],
      [400, { rawBody: '' }, /empty/],
      [400, { body: [1, 2] }, /JSON object/],
      [400, { body: 'click' }, /JSON object/],
      [400, { rawBody: '{"name":"a\\u0000b"}' }, /\\u0000/],
      [400, { rawBody: '{"name":"\\ud800"}' }, /surrogate/],
      [413, { body: { name: 'x'.repeat(20_000) } }, /ANALYTICS_MAX_BODY_BYTES/],
      [415, { headers: { 'Content-Type': 'text/plain' } }, /not JSON/],
    ]
    for (const [status, change, message] of cases) {
      const res = await post(a.url, change)
      assert.is(res.status, status, JSON.stringify(change).slice(0, 80))
      assert.match(((await res.json()) as { error: string }).error, message)
    }
    assert.is(await count(), before, 'no row stored for a refused request')
    assert.is((await post(a.url)).status, 202, 'the service goes on')
  })

  test('concurrent requests are committed in shared batches, each answered 202 once stored', async () => {
    const before = await count()
    const metricsBefore = await batchCount(a.url)
    const answers = await Promise.all(Array.from({ length: 300 }, (_, i) => post(a.url, { body: { ...CANONICAL_BODY, name: `n${i}` } })))
    assert.equal(
      answers.map((r) => r.status),
      answers.map(() => 202),
    )
    assert.is(await count(), before + 300)
    const names = await a.sql<{ n: number }>(`SELECT count(DISTINCT data->'body'->>'name')::int AS n FROM raw_analytics WHERE data->'body'->>'name' LIKE 'n%'`)
    assert.is(names[0]!.n, 300, 'every request stored once')
    const batches = (await batchCount(a.url)) - metricsBefore
    assert.ok(batches < 300, `300 rows in ${batches} batches`)
  })

  return test
}

/** Batches written so far, from the kernel's /metrics. */
async function batchCount(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text()
  const line = text.split('\n').find((l) => l.startsWith('armature_analytics_batch_rows_count'))
  return line ? Number(line.split(' ').pop()) : 0
}

ingestSuite('postgres').run()
ingestSuite('pglite').run()
