// The proxy's servers stored in PostgreSQL, and PostgreSQL cut off (a TCP proxy between the
// kernel and it): changes answer 503 with Retry-After and are not made, running servers keep
// forwarding, /readyz follows, and it comes back by itself, without a request to notice it.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { startTcpProxy, startTestKernel, waitFor, type TcpProxy, type TestKernel } from '@armature/testing'
import { createTestDatabase, type TestDatabase } from '../../db/test/support.ts'
import { PLUGINS, TOKEN, adminClient, register, request, startUpstream, type Upstream } from './support.ts'

let pgDatabase: TestDatabase
let tcp: TcpProxy
let k: TestKernel
let upstream: Upstream

test.before(async () => {
  upstream = await startUpstream('outage')
  pgDatabase = await createTestDatabase('armature_proxy_outage')
  const direct = new URL(pgDatabase.url)
  tcp = await startTcpProxy({ host: direct.hostname, port: Number(direct.port || 5432) })
  const throughProxy = new URL(pgDatabase.url)
  throughProxy.host = `${tcp.host}:${tcp.port}`
  k = await startTestKernel({ plugins: PLUGINS, env: { ADMIN_TOKEN: TOKEN, DATABASE_URL: throughProxy.toString() } })
})

test.after(async () => {
  await k?.stop()
  await tcp?.close()
  await pgDatabase?.drop()
  await upstream?.close()
})

test('with the database cut, changes answer 503 and are not made; servers keep serving; recovery is noticed alone', async () => {
  const admin = adminClient(k.url)
  const url = await register(admin, { name: 'kept', routes: [{ path: '/', targets: [upstream.url] }] })
  const routes = [{ path: '/', targets: [upstream.url] }]

  tcp.cut()
  const created = await admin.create({ name: 'during', routes })
  const patched = await admin.patch('kept', { routes: [{ path: '/moved', targets: [upstream.url] }] })
  const removed = await admin.remove('kept')
  for (const answer of [created, patched, removed]) {
    assert.is(answer.status, 503, JSON.stringify(answer.body))
    assert.match(answer.body.error, /^the database \(PostgreSQL\) is unavailable: /)
  }
  const raw = await fetch(`${k.url}/proxy/servers`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'again', routes }),
  })
  assert.is(raw.status, 503)
  assert.is(raw.headers.get('retry-after'), '5')

  assert.equal(
    (await admin.list()).body.servers.map((s: { name: string; state: string }) => `${s.name}:${s.state}`),
    ['kept:running'],
    'nothing changed',
  )
  assert.equal(
    (await admin.get('kept')).body.routes.map((r: { path: string }) => r.path),
    ['/'],
  )
  assert.is((await request(`${url}/still`)).status, 200, 'a running server keeps forwarding')
  const ready = await fetch(`${k.url}/readyz`)
  assert.is(ready.status, 503)
  assert.match(((await ready.json()) as { reason: string }).reason, /database/)

  tcp.restore()
  // No request reaches the database meanwhile: the watch's probe notices it answers again.
  await waitFor(async () => (await fetch(`${k.url}/readyz`)).status === 200, { timeoutMs: 15_000, what: '/readyz to be 200 again' })
  assert.is((await admin.remove('kept')).status, 200, 'a DELETE refused during the outage works now')
  assert.is((await admin.create({ name: 'after', routes })).status, 201)
})

test.run()
