// Processing on PostgreSQL and on PGlite: the canonical event parsed into columns and rolled up
// per minute; a failing processor retried with backoff, then dead, then retried from the admin route.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { waitFor } from '@armature/testing'
import { ADMIN_TOKEN, CANONICAL_BODY, CANONICAL_HEADERS, FAILING_PLUGIN, post, startAnalytics, type AnalyticsKernel, type Backend } from './support.ts'

const FAST = {
  ADMIN_TOKEN,
  ANALYTICS_MAX_ATTEMPTS: '3',
  ANALYTICS_RETRY_BASE_MS: '50',
  ANALYTICS_RETRY_MAX_MS: '200',
  ANALYTICS_POLL_INTERVAL_MS: '100',
  ANALYTICS_RESCUE_INTERVAL_MS: '200',
}
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` }

function processSuite(backend: Backend) {
  const test = suite(`processing on ${backend}`)
  let a: AnalyticsKernel
  test.before(async () => {
    a = await startAnalytics(backend, { env: FAST, extra: { failing: FAILING_PLUGIN } })
  })
  test.after(async () => {
    await a?.stop()
  })

  const stateOf = async (name: string) =>
    (
      await a.sql<{ state: string; attempts: number; last_error: string | null; id: string }>(
        `SELECT id::text, state, attempts, last_error FROM raw_analytics WHERE data->'body'->>'name' = $1`,
        [name],
      )
    )[0]

  test('the canonical event becomes one analytics row with the user agent parsed and the names normalised', async () => {
    assert.is((await post(a.url, { body: { ...CANONICAL_BODY, module: ' Settings ', event: 'Click' } })).status, 202)
    const row = await waitFor(
      async () => (await a.sql(`SELECT a.*, a.user_id::text AS user, r.state, r.attempts AS raw_attempts FROM analytics a JOIN raw_analytics r ON r.id = a.raw_id`))[0],
      { what: 'the analytics row' },
    )
    assert.is(row.user, CANONICAL_HEADERS['X-Tantum-Authorization'])
    assert.is(row.module, 'settings')
    assert.is(row.type, 'alert')
    assert.is(row.event, 'click')
    assert.is(row.name, 'подтверждение выхода')
    assert.is(row.device_id, 'G1752G75-7C56-4G49-BGFA5ACBGC963471')
    assert.is(row.device_type, 'iOS')
    assert.is(row.os_version, '15.5')
    assert.is(row.app_version, '4.3')
    assert.is(row.app_build, '725')
    assert.equal(row.data, { data: { action: 'cancel' }, checked: true }, 'the rest of the body, as the added processor left it')
    assert.is(row.state, 'done')
    assert.is(row.raw_attempts, 1)
    assert.is(row.attempt, 1)

    const stats = (await (await fetch(`${a.url}/analytics/stats?event=CLICK`)).json()) as {
      total: number
      byDeviceType: Record<string, number>
      byType: Record<string, number>
      minutes: Array<{ count: number }>
    }
    assert.is(stats.total, 1)
    assert.equal(stats.byDeviceType, { iOS: 1 })
    assert.equal(stats.byType, { alert: 1 })
    assert.is(stats.minutes.length, 1)
    const none = (await (await fetch(`${a.url}/analytics/stats?event=scroll`)).json()) as { total: number }
    assert.is(none.total, 0)
    const backlog = (await (await fetch(`${a.url}/analytics/backlog`)).json()) as { pending: number; leased: number; dead: number }
    assert.equal([backlog.pending, backlog.leased, backlog.dead], [0, 0, 0])
  })

  test('stats refuses a bad range naming the parameter', async () => {
    for (const [query, field] of [
      ['from=yesterday', 'from'],
      ['to=2026-13-45', 'to'],
      ['from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z', 'from'],
      ['from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z', 'from'],
    ]) {
      const res = await fetch(`${a.url}/analytics/stats?${query}`)
      assert.is(res.status, 400, query)
      assert.is(((await res.json()) as { field: string }).field, field)
    }
  })

  test('a failing processor retries with backoff, then the row is dead with its error, and an admin retry processes it once', async () => {
    assert.is((await post(a.url, { body: { ...CANONICAL_BODY, name: 'boom' } })).status, 202)
    const dead = await waitFor(
      async () => {
        const row = await stateOf('boom')
        return row?.state === 'dead' ? row : undefined
      },
      { what: 'the row to be dead' },
    )
    assert.is(dead.attempts, 3, 'maxAttempts attempts')
    assert.match(dead.last_error!, /processor boom-check failed: boom refused \(attempt 3\)/)
    assert.is((await a.sql(`SELECT 1 FROM analytics a JOIN raw_analytics r ON r.id = a.raw_id WHERE r.data->'body'->>'name' = 'boom'`)).length, 0)

    const backlog = (await (await fetch(`${a.url}/analytics/backlog`)).json()) as { dead: number }
    assert.is(backlog.dead, 1)
    assert.is((await fetch(`${a.url}/analytics/admin/dead`)).status, 401, 'the admin routes need the token')
    const listed = (await (await fetch(`${a.url}/analytics/admin/dead`, { headers: admin })).json()) as { rows: Array<{ id: string; last_error: string }> }
    assert.equal(
      listed.rows.map((row) => row.id),
      [dead.id],
    )

    // Still failing: the retry gives it maxAttempts more, and it is dead again.
    const retried = await fetch(`${a.url}/analytics/admin/dead/${dead.id}/retry`, { method: 'POST', headers: admin })
    assert.equal(await retried.json(), { retried: [dead.id] })
    await waitFor(async () => (await stateOf('boom'))?.attempts === 6 && (await stateOf('boom'))?.state === 'dead', { what: 'three more attempts' })

    await fetch(`${a.url}/failing/heal`, { method: 'POST' })
    assert.is((await fetch(`${a.url}/analytics/admin/dead/${dead.id}/retry`, { method: 'POST', headers: admin })).status, 200)
    await waitFor(async () => (await stateOf('boom'))?.state === 'done', { what: 'the healed row to be done' })
    const stored = await a.sql<{ attempt: number }>(`SELECT a.attempt FROM analytics a JOIN raw_analytics r ON r.id = a.raw_id WHERE r.data->'body'->>'name' = 'boom'`)
    assert.equal(
      stored.map((row) => row.attempt),
      [7],
      'one analytics row, from the attempt that succeeded',
    )
    const again = await fetch(`${a.url}/analytics/admin/dead/${dead.id}/retry`, { method: 'POST', headers: admin })
    assert.is(again.status, 409, 'a done row is not retried')
    assert.is((await fetch(`${a.url}/analytics/admin/dead/99999999/retry`, { method: 'POST', headers: admin })).status, 404)
  })

  return test
}

processSuite('postgres').run()
processSuite('pglite').run()
