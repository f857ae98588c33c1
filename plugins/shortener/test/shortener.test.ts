// Wire tests: a real kernel with the db, collections, proxy and shortener plugins, on both storage backends.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { PGlite } from '@electric-sql/pglite'
import { startTestKernel, waitFor, type TestKernel } from '@armature/testing'
import { createTestDatabase, type TestDatabase } from '../../db/test/support.ts'
import { storedVisitsIn } from './support.ts'

const PLUGINS = ['db', 'collections', 'proxy', 'shortener'].map((name) => new URL(`../../${name}`, import.meta.url).pathname)
const KEY = 'test-key-' + process.pid
const auth = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }
const tmp = mkdtempSync(join(tmpdir(), 'armature-shortener-test-'))

let upstream: Server
let upstreamUrl = ''
let pgDatabase: TestDatabase

test.before(async () => {
  // Echoes what it received; /slow never answers in time.
  upstream = createServer((req, res) => {
    if (req.url?.startsWith('/slow')) return void setTimeout(() => res.end('late'), 3000).unref()
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      res.setHeader('content-type', 'application/json')
      res.setHeader('x-upstream', 'yes')
      res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString() }))
    })
  })
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve))
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`
  pgDatabase = await createTestDatabase('armature_shortener_test')
})

test.after(async () => {
  upstream?.closeAllConnections()
  await new Promise((resolve) => upstream?.close(resolve))
  await pgDatabase?.drop()
  rmSync(tmp, { recursive: true, force: true })
})

async function create(k: TestKernel, body: Record<string, unknown>, headers: Record<string, string> = auth): Promise<Response> {
  return fetch(`${k.url}/shortener/links`, { method: 'POST', headers, body: JSON.stringify(body) })
}

async function created(k: TestKernel, body: Record<string, unknown>): Promise<{ slug: string; shortUrl: string }> {
  const res = await create(k, body)
  assert.is(res.status, 201, await res.clone().text())
  return (await res.json()) as { slug: string; shortUrl: string }
}

const follow = (url: string, init: RequestInit = {}) => fetch(url, { redirect: 'manual', ...init })

interface Backend {
  name: 'postgres' | 'pglite'
  env(): Record<string, string>
  storedVisits(slug: string): Promise<number>
}

const pgliteData = join(tmp, 'data')
const backends: Backend[] = [
  {
    name: 'postgres',
    env: () => ({ DATABASE_URL: pgDatabase.url }),
    storedVisits: (slug) => storedVisitsIn(pgDatabase.url, slug),
  },
  {
    name: 'pglite',
    env: () => ({ DATABASE_URL: '', DATA_DIR: pgliteData }),
    async storedVisits(slug) {
      const db = await PGlite.create(join(pgliteData, 'db'))
      try {
        const { rows } = await db.query<{ n: number }>('SELECT visits::int AS n FROM shortener_links WHERE slug = $1', [slug])
        return rows[0]!.n
      } finally {
        await db.close()
      }
    },
  },
]

test('creating without a configured API key answers 403 and says how to enable it', async () => {
  const k = await startTestKernel({ plugins: PLUGINS, env: { DATABASE_URL: pgDatabase.url, SHORTENER_API_KEY: '' } })
  try {
    const res = await create(k, { url: 'https://example.com/' })
    assert.is(res.status, 403)
    assert.match(await res.text(), /SHORTENER_API_KEY/)
  } finally {
    await k.stop()
  }
})

for (const backend of backends) {
  test(`${backend.name}: links redirect, proxy, expire, run out, refuse bad input, and keep every count over a graceful stop`, async () => {
    const k = await startTestKernel({
      plugins: PLUGINS,
      env: {
        ...backend.env(),
        SHORTENER_API_KEY: KEY,
        // Only the stop flushes, so the stored count proves the Flush-phase flush.
        SHORTENER_FLUSH_INTERVAL_MS: '600000',
        SHORTENER_PROXY_TIMEOUT_MS: '500',
      },
    })
    let stopped = false
    try {
      // Redirect with a generated slug.
      const link = await created(k, { url: 'https://example.com/a?b=1', status: 301 })
      assert.match(link.slug, /^[A-Za-z0-9]{7}$/)
      assert.is(link.shortUrl, `${k.url}/s/${link.slug}`)
      for (let i = 0; i < 5; i++) {
        const res = await follow(link.shortUrl)
        assert.is(res.status, 301)
        assert.is(res.headers.get('location'), 'https://example.com/a?b=1')
      }
      const stats = (await (await fetch(`${k.url}/shortener/links/${link.slug}/stats`)).json()) as { visits: number }
      assert.is(stats.visits, 5, 'stats include visits not yet flushed')

      // Custom slugs: taken, reserved, malformed.
      await created(k, { url: 'https://example.com/', slug: 'my-link' })
      assert.is((await create(k, { url: 'https://example.com/', slug: 'my-link' })).status, 409)
      const reserved = await create(k, { url: 'https://example.com/', slug: 'admin' })
      assert.is(reserved.status, 400)
      assert.is(((await reserved.json()) as { field: string }).field, 'slug')
      assert.is((await create(k, { url: 'https://example.com/', slug: 'a b' })).status, 400)

      // Only http(s) destinations; every refusal names the field.
      for (const url of ['javascript:alert(1)', 'data:text/html,hi', 'file:///etc/passwd', 'ftp://x.org/', 'not a url']) {
        const res = await create(k, { url })
        assert.is(res.status, 400, url)
        assert.is(((await res.json()) as { field: string }).field, 'url')
      }
      assert.is((await create(k, { url: 'https://example.com/', status: 200 })).status, 400)
      assert.is((await create(k, { url: 'https://example.com/', maxVisits: 0 })).status, 400)
      assert.is((await create(k, { url: 'https://example.com/', expiresAt: '2001-01-01T00:00:00Z' })).status, 400)
      // Dates only ISO 8601 with a timezone, and only what PostgreSQL can store.
      for (const expiresAt of ['Jan 1 2031', '+275760-09-13T00:00:00.000Z']) {
        const res = await create(k, { url: 'https://example.com/', expiresAt })
        assert.is(res.status, 400, expiresAt)
        assert.is(((await res.json()) as { field: string }).field, 'expiresAt')
      }
      // A slug no link can have (a NUL byte PostgreSQL refuses in text) is simply unknown.
      assert.is((await follow(`${k.url}/s/%00`)).status, 404)
      assert.is((await fetch(`${k.url}/shortener/links/%00`, { headers: auth })).status, 404)
      assert.is((await fetch(`${k.url}/shortener/links/a%00b/stats`)).status, 404)
      assert.is((await fetch(`${k.url}/shortener/links/%00`, { method: 'DELETE', headers: auth })).status, 404)
      const wrongKey = await create(k, { url: 'https://example.com/' }, { ...auth, authorization: 'Bearer nope' })
      assert.is(wrongKey.status, 401)
      assert.is(wrongKey.headers.get('www-authenticate'), 'Bearer')
      const badJson = await fetch(`${k.url}/shortener/links`, { method: 'POST', headers: auth, body: '{' })
      assert.is(badJson.status, 400)

      // Visit limit under concurrency: exactly maxVisits redirects, the rest 410.
      const limited = await created(k, { url: 'https://example.com/limited', maxVisits: 3 })
      const answers = await Promise.all(Array.from({ length: 12 }, () => follow(limited.shortUrl)))
      assert.equal(answers.map((r) => r.status).sort(), [302, 302, 302, ...Array(9).fill(410)])

      // Expiry: a link that expires shortly answers 410 afterwards.
      const soon = await created(k, { url: 'https://example.com/soon', expiresAt: new Date(Date.now() + 1000).toISOString() })
      assert.is((await follow(soon.shortUrl)).status, 302)
      await waitFor(async () => (await follow(soon.shortUrl)).status === 410, { timeoutMs: 5000 })

      // Proxy mode: method, body and query reach the upstream; its answer streams back.
      const proxied = await created(k, { url: `${upstreamUrl}/echo?fixed=1`, mode: 'proxy' })
      const res = await fetch(`${proxied.shortUrl}?extra=2`, { method: 'POST', body: 'hello upstream' })
      assert.is(res.status, 200)
      assert.is(res.headers.get('x-upstream'), 'yes')
      const echoed = (await res.json()) as { method: string; url: string; body: string; headers: Record<string, string> }
      assert.is(echoed.method, 'POST')
      assert.is(echoed.body, 'hello upstream')
      assert.is(echoed.url, '/echo?fixed=1&extra=2')
      assert.is(echoed.headers['x-forwarded-for'], '127.0.0.1')
      assert.is(echoed.headers['x-forwarded-proto'], 'http')
      assert.is(echoed.headers['x-forwarded-host'], new URL(k.url).host)

      const slow = await created(k, { url: `${upstreamUrl}/slow`, mode: 'proxy' })
      assert.is((await fetch(slow.shortUrl)).status, 504)
      const down = await created(k, { url: 'http://127.0.0.1:1/', mode: 'proxy' })
      assert.is((await fetch(down.shortUrl)).status, 502)

      // Reading and deleting need the key; a deleted link is gone from the cache too.
      assert.is((await fetch(`${k.url}/shortener/links/my-link`)).status, 401)
      const read = (await (await fetch(`${k.url}/shortener/links/${link.slug}`, { headers: auth })).json()) as { url: string; visits: number }
      assert.is(read.url, 'https://example.com/a?b=1')
      assert.is((await follow(`${k.url}/s/my-link`)).status, 302)
      assert.is((await fetch(`${k.url}/shortener/links/my-link`, { method: 'DELETE', headers: auth })).status, 204)
      assert.is((await follow(`${k.url}/s/my-link`)).status, 404)
      assert.is((await follow(`${k.url}/s/never-made`)).status, 404)

      // A graceful stop flushes every pending visit before the database closes.
      await k.stop()
      stopped = true
      assert.is(await backend.storedVisits(link.slug), 5)
      assert.is(await backend.storedVisits(limited.slug), 3)
      assert.is(await backend.storedVisits(proxied.slug), 1)
    } finally {
      if (!stopped) await k.stop()
    }
  })
}

test.run()
