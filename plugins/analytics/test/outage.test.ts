// PostgreSQL cut during ingest (a TCP proxy between the kernel and the server): requests answer
// 503 with Retry-After, never 202, and every 202 given corresponds to a stored row.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { startTcpProxy, waitFor, type TcpProxy } from '@armature/testing'
import { createTestDatabase, type TestDatabase } from '../../db/test/support.ts'
import { CANONICAL_BODY, post, startAnalytics, sqlOver, type AnalyticsKernel } from './support.ts'

let database: TestDatabase
let tcp: TcpProxy
let a: AnalyticsKernel

test.before(async () => {
  database = await createTestDatabase('armature_analytics_outage')
  const direct = new URL(database.url)
  tcp = await startTcpProxy({ host: direct.hostname, port: Number(direct.port || 5432) })
  const through = new URL(database.url)
  through.host = `${tcp.host}:${tcp.port}`
  // Processing off: this test is about ingest alone.
  a = await startAnalytics('postgres', { database: { ...database, url: through.toString() }, env: { ANALYTICS_COMMIT_TIMEOUT_MS: '1000', DB_CONNECT_TIMEOUT_MS: '500' } })
})

test.after(async () => {
  await a?.stop()
  await tcp?.close()
  await database?.drop()
})

test('a cut answers 503 with Retry-After, never 202, and every 202 is a stored row', async () => {
  const accepted: string[] = []
  const statuses = new Map<number, number>()
  let retryAfterSeen = 0
  let next = 0
  let running = true
  // Eight clients sending one request after another, each with a name of its own.
  const client = async () => {
    while (running) {
      const name = `r${next++}`
      const res = await post(a.url, { body: { ...CANONICAL_BODY, name } })
      await res.arrayBuffer()
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1)
      if (res.status === 202) accepted.push(name)
      if (res.status === 503 && Number(res.headers.get('retry-after')) >= 1) retryAfterSeen++
    }
  }
  const clients = Array.from({ length: 8 }, client)
  await waitFor(() => accepted.length >= 200, { what: '200 accepted before the cut' })
  tcp.cut()
  await waitFor(() => (statuses.get(503) ?? 0) >= 50, { what: '503s during the cut' })
  const acceptedAtRestore = accepted.length
  tcp.restore()
  await waitFor(() => accepted.length >= acceptedAtRestore + 200, { timeoutMs: 20_000, what: '202s again after the path is back' })
  running = false
  await Promise.all(clients)

  assert.equal(
    [...statuses.keys()].filter((s) => s !== 202 && s !== 503),
    [],
    `only 202 and 503 answered: ${JSON.stringify([...statuses])}`,
  )
  assert.is(retryAfterSeen, statuses.get(503), 'every 503 carries Retry-After')
  const stored = new Set((await sqlOver(a.url)<{ name: string }>(`SELECT data->'body'->>'name' AS name FROM raw_analytics`)).map((row) => row.name))
  const missing = accepted.filter((name) => !stored.has(name))
  assert.equal(missing, [], `every 202 is stored (${accepted.length} accepted, ${stored.size} stored)`)
})

test.run()
