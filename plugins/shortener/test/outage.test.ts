// A PostgreSQL outage, made by cutting a TCP proxy between the kernel and PostgreSQL: requests
// that need the database answer 503 with Retry-After, cached links keep redirecting, the log
// says so once each way, /readyz follows, and everything recovers once the path is back.
import { readFileSync } from 'node:fs'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { startTcpProxy, startTestKernel, waitFor, type TcpProxy, type TestKernel } from '@armature/testing'
import { createTestDatabase, type TestDatabase } from '../../db/test/support.ts'
import { storedVisitsIn } from './support.ts'

const PLUGINS = ['db', 'collections', 'proxy', 'shortener'].map((name) => new URL(`../../${name}`, import.meta.url).pathname)
const KEY = 'outage-key-' + process.pid
const auth = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }

let pgDatabase: TestDatabase
let tcp: TcpProxy
let k: TestKernel

test.before(async () => {
  pgDatabase = await createTestDatabase('armature_shortener_outage')
  const direct = new URL(pgDatabase.url)
  tcp = await startTcpProxy({ host: direct.hostname, port: Number(direct.port || 5432) })
  const throughProxy = new URL(pgDatabase.url)
  throughProxy.host = `${tcp.host}:${tcp.port}`
  k = await startTestKernel({ plugins: PLUGINS, env: { DATABASE_URL: throughProxy.toString(), SHORTENER_API_KEY: KEY, SHORTENER_FLUSH_INTERVAL_MS: '100' } })
})

test.after(async () => {
  await k?.stop()
  await tcp?.close()
  await pgDatabase?.drop()
})

const create = (body: Record<string, unknown>) => fetch(`${k.url}/shortener/links`, { method: 'POST', headers: auth, body: JSON.stringify(body) })
const follow = (slug: string) => fetch(`${k.url}/s/${slug}`, { redirect: 'manual' })

/** The shortener's log lines so far, from the kernel's JSON log file. */
function shortenerLog(): Array<{ level: number; msg: string; err?: unknown }> {
  return readFileSync(k.logFile, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line))
    .filter((entry) => entry.plugin === 'shortener')
}

const countOf = (msg: RegExp) => shortenerLog().filter((entry) => msg.test(entry.msg)).length

test('an outage answers 503 naming the database, is logged once each way, turns /readyz 503, and passes', async () => {
  const res = await create({ url: 'https://example.com/kept' })
  assert.is(res.status, 201)
  const { slug } = (await res.json()) as { slug: string }
  assert.is((await follow(slug)).status, 302, 'the link is now cached')
  assert.is((await fetch(`${k.url}/readyz`)).status, 200)

  tcp.cut()
  const answers = [
    await create({ url: 'https://example.com/during' }),
    await fetch(`${k.url}/shortener/links/${slug}/stats`),
    await follow('never-made'),
    await fetch(`${k.url}/shortener/links/${slug}`, { method: 'DELETE', headers: auth }),
  ]
  for (const answer of answers) {
    assert.is(answer.status, 503, answer.url)
    assert.is(answer.headers.get('retry-after'), '5')
    const body = (await answer.json()) as { error: string }
    assert.match(body.error, /^the database \(PostgreSQL\) is unavailable: /)
  }
  assert.is((await follow(slug)).status, 302, 'a cached link still redirects')
  const ready = await fetch(`${k.url}/readyz`)
  assert.is(ready.status, 503)
  assert.match(((await ready.json()) as { reason: string }).reason, /database/)

  await waitFor(() => countOf(/^database is not ok/) > 0, { what: 'the outage to be logged' })
  assert.is(countOf(/^database is not ok: PostgreSQL: /), 1, 'one line when the outage starts')
  assert.equal(
    shortenerLog().filter((entry) => entry.level >= 50),
    [],
    'no error (or stack) per request',
  )

  tcp.restore()
  const after = await waitFor(
    async () => {
      const res = await create({ url: 'https://example.com/after' })
      return res.status === 201 ? res : undefined
    },
    { what: 'creating to work again' },
  )
  assert.is(after.status, 201)
  await waitFor(async () => (await fetch(`${k.url}/readyz`)).status === 200, { what: '/readyz to be 200 again' })
  // The visit made during the outage was kept and written once the database answered.
  await waitFor(async () => (await storedVisitsIn(pgDatabase.url, slug)) === 2, { what: 'both visits to be stored' })
  await waitFor(() => countOf(/^database is ok again/) === 1, { what: 'the recovery to be logged' })
  assert.is(countOf(/^database is not ok/), 1)
})

test.run()
