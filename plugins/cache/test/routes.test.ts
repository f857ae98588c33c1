import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { serve } from '@hono/node-server'
import type { AddressInfo } from 'node:net'
import { Cache } from '../src/cache.ts'
import { createApp } from '../src/controllers/app.ts'
import { crudScenario } from './support/crud-scenario.ts'
import { jsonReader } from './support/reader.ts'
import { tempDir } from './support/tmp.ts'

const MAX = 4096

async function openCache() {
  return Cache.open({ dataDir: tempDir(), fsync: 'always', snapshotEveryMs: 0, dumpEveryMs: 0 })
}

test('CRUD and every error code through app.request', async () => {
  const cache = await openCache()
  const app = createApp(cache, { readJson: jsonReader(MAX) })
  await crudScenario((path, init) => Promise.resolve(app.request(path, init)), MAX)
  await cache.close()
})

test('CRUD and every error code through a node:http server', async () => {
  const cache = await openCache()
  const app = createApp(cache, { readJson: jsonReader(MAX) })
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' })
  await new Promise((r) => server.once('listening', r))
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  try {
    await crudScenario((path, init) => fetch(base + path, init), MAX)
    // A chunked body with no content-length is still limited.
    const stream = new ReadableStream({
      start(controller) {
        for (let i = 0; i < 10; i++) controller.enqueue(new TextEncoder().encode('x'.repeat(1000)))
        controller.close()
      },
    })
    const res = await fetch(`${base}/c/x`, { method: 'PUT', body: stream, headers: { 'content-type': 'application/json' }, duplex: 'half' } as RequestInit)
    assert.is(res.status, 413)
  } finally {
    await new Promise((r) => server.close(r))
    await cache.close()
  }
})

test('100 concurrent writers on one document: If-Match retries lose no update', async () => {
  const cache = await openCache()
  const app = createApp(cache, { readJson: jsonReader(MAX) })
  const call = (path: string, init?: RequestInit) => Promise.resolve(app.request(path, init))
  await call('/counters/c', { method: 'PUT', body: '{"n":0}', headers: { 'content-type': 'application/json' } })
  let conflicts = 0
  await Promise.all(
    Array.from({ length: 100 }, async () => {
      for (;;) {
        const got = await call('/counters/c')
        const { value } = (await got.json()) as { value: { n: number } }
        const res = await call('/counters/c', {
          method: 'PUT',
          body: JSON.stringify({ n: value.n + 1 }),
          headers: { 'content-type': 'application/json', 'if-match': got.headers.get('etag')! },
        })
        if (res.status === 200) return
        assert.is(res.status, 412)
        conflicts++
      }
    }),
  )
  const final = (await (await call('/counters/c')).json()) as { value: { n: number }; version: number }
  assert.equal(final.value, { n: 100 })
  assert.is(final.version, 101)
  assert.ok(conflicts > 0, 'writers really raced')
  await cache.close()
})

test('reads answer synchronously; writes, HEAD and errors keep their shape', async () => {
  const cache = await openCache()
  const app = createApp(cache, { readJson: jsonReader(MAX) })
  const put = await app.request('/users/ann', { method: 'PUT', body: '{"n":1}', headers: { 'content-type': 'application/json' } })
  assert.is(put.status, 201)
  // A read returns its Response itself, not a promise: the server writes it out at once.
  const got = app.fetch(new Request('http://localhost/users/ann'))
  assert.ok(got instanceof Response, 'GET by id is synchronous')
  assert.is(got.status, 200)
  assert.is(got.headers.get('etag'), put.headers.get('etag'))
  assert.is(got.headers.get('content-type'), 'application/json')
  const missing = app.fetch(new Request('http://localhost/users/nobody'))
  assert.ok(missing instanceof Response, 'a 404 read is synchronous too')
  assert.is(missing.status, 404)
  assert.is(missing.headers.get('etag'), `W/"${cache.store.seq}"`)
  const head = await app.request('/users/ann', { method: 'HEAD' })
  assert.is(head.status, 200)
  assert.is(head.headers.get('etag'), put.headers.get('etag'))
  assert.is(await head.text(), '')
  assert.is((await app.request('/users/ann/')).status, 404)
  assert.is((await app.request('/users//ann')).status, 404)
  assert.is((await app.request('/users/ann', { method: 'OPTIONS' })).status, 404)
  // Percent-encoded ids decode as route parameters do.
  const colon = await app.request('/users/a%3Ab', { method: 'PUT', body: '1', headers: { 'content-type': 'application/json' } })
  assert.is(colon.status, 201)
  assert.is(((await colon.json()) as { id: string }).id, 'a:b')
  await cache.close()
})

test('bodies read from the Node request: chunked, byte order mark, the limit to the byte', async () => {
  const cache = await openCache()
  const app = createApp(cache, { readJson: jsonReader(MAX) })
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' })
  await new Promise((r) => server.once('listening', r))
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const chunked = (parts: string[]) =>
    new ReadableStream({
      start(controller) {
        for (const p of parts) controller.enqueue(new TextEncoder().encode(p))
        controller.close()
      },
    })
  try {
    // A chunked body within the limit, split across chunks (and inside a multi-byte character).
    const bytes = new TextEncoder().encode('{"name":"Åse","n":2}')
    const split = new ReadableStream({
      start(controller) {
        controller.enqueue(bytes.subarray(0, 10))
        controller.enqueue(bytes.subarray(10))
        controller.close()
      },
    })
    let res = await fetch(`${base}/c/chunked`, { method: 'PUT', body: split, headers: { 'content-type': 'application/json' }, duplex: 'half' } as RequestInit)
    assert.is(res.status, 201)
    assert.equal(((await res.json()) as { value: unknown }).value, { name: 'Åse', n: 2 })
    res = await fetch(`${base}/c/bom`, { method: 'PUT', body: '\ufeff{"bom":true}', headers: { 'content-type': 'application/json' } })
    assert.is(res.status, 201)
    assert.equal(((await res.json()) as { value: unknown }).value, { bom: true })
    // Exactly the limit is accepted, one byte more is not.
    const exact = JSON.stringify('x'.repeat(MAX - 2))
    res = await fetch(`${base}/c/exact`, { method: 'PUT', body: exact, headers: { 'content-type': 'application/json' } })
    assert.is(res.status, 201)
    res = await fetch(`${base}/c/exact`, { method: 'PUT', body: chunked([exact, ' ']), headers: { 'content-type': 'application/json' }, duplex: 'half' } as RequestInit)
    assert.is(res.status, 413)
    // A declared length over the limit is refused, with the ETag every answer carries.
    res = await fetch(`${base}/c/big`, { method: 'PUT', body: 'x'.repeat(MAX + 1), headers: { 'content-type': 'application/json' } })
    assert.is(res.status, 413)
    assert.ok(res.headers.get('etag'))
    // The connection is still usable after a refused body.
    res = await fetch(`${base}/c/exact`)
    assert.is(res.status, 200)
  } finally {
    await new Promise((r) => server.close(r))
    await cache.close()
  }
})

/** GETs after every kind of write and after expiry, each GET repeated so the second comes from a kept body. */
async function cachedBodyScenario(call: (path: string, init?: RequestInit) => Promise<Response>, advance: (ms: number) => void): Promise<void> {
  const json = { 'content-type': 'application/json' }
  const read = async (path: string, headers: Record<string, string> = {}) => {
    const res = await call(path, { headers })
    const text = await res.text()
    return {
      status: res.status,
      etag: res.headers.get('etag'),
      length: res.headers.get('content-length'),
      text,
      body: text ? (JSON.parse(text) as { value: unknown; version: number; etag: string; expiresAt: string | null }) : undefined,
    }
  }
  const twice = async (path: string) => {
    const first = await read(path)
    const second = await read(path)
    assert.equal(second, first, `a repeated GET of ${path} answers the same`)
    if (first.status === 200) {
      assert.is(first.body!.etag, first.etag)
      if (first.length !== null) assert.is(Number(first.length), Buffer.byteLength(first.text), 'Content-Length counts bytes')
    }
    return first
  }

  assert.is((await call('/docs/a', { method: 'PUT', body: '{"name":"é ☃","n":1}', headers: json })).status, 201)
  const v1 = await twice('/docs/a')
  assert.equal(v1.body!.value, { name: 'é ☃', n: 1 })
  assert.is((await read('/docs/a', { 'if-none-match': v1.etag! })).status, 304)

  // PUT after GET: the new body, never the kept one.
  const put = await call('/docs/a', { method: 'PUT', body: '{"n":2}', headers: json })
  assert.is(put.status, 200)
  const v2 = await twice('/docs/a')
  assert.equal(v2.body!.value, { n: 2 })
  assert.is(v2.body!.version, 2)
  assert.is(v2.etag, put.headers.get('etag'))
  assert.is.not(v2.etag, v1.etag)
  const stale = await read('/docs/a', { 'if-none-match': v1.etag! })
  assert.is(stale.status, 200, 'the old ETag no longer matches')
  assert.equal(stale.body, v2.body)

  // PATCH after GET.
  const patch = await call('/docs/a', { method: 'PATCH', body: '{"m":3}', headers: { ...json, 'if-match': v2.etag! } })
  assert.is(patch.status, 200)
  const v3 = await twice('/docs/a')
  assert.equal(v3.body!.value, { n: 2, m: 3 })
  assert.is(v3.etag, patch.headers.get('etag'))

  // DELETE after GET, then the same id again: 404, then the new document from version 1.
  assert.is((await call('/docs/a', { method: 'DELETE' })).status, 204)
  assert.is((await twice('/docs/a')).status, 404)
  assert.is((await read('/docs/a', { 'if-none-match': v3.etag! })).status, 404)
  assert.is((await call('/docs/a', { method: 'HEAD' })).status, 404)
  assert.is((await call('/docs/a', { method: 'PUT', body: '"again"', headers: json })).status, 201)
  const again = await twice('/docs/a')
  assert.equal(again.body!.value, 'again')
  assert.is(again.body!.version, 1)

  // A kept body is not served once its document has expired, nor a 304 for it.
  assert.is((await call('/docs/t?ttl=10', { method: 'PUT', body: '{"t":1}', headers: json })).status, 201)
  const live = await twice('/docs/t')
  assert.is(live.status, 200)
  assert.ok(live.body!.expiresAt)
  const head = await call('/docs/t', { method: 'HEAD' })
  assert.is(head.status, 200)
  assert.is(head.headers.get('etag'), live.etag)
  assert.is(await head.text(), '')
  advance(10_000)
  assert.is((await twice('/docs/t')).status, 404)
  assert.is((await read('/docs/t', { 'if-none-match': live.etag! })).status, 404)
  assert.is((await call('/docs/t', { method: 'HEAD' })).status, 404)
}

for (const cacheDocumentBodies of [true, false]) {
  test(`GET answers the current version after PUT, PATCH, DELETE and expiry (kept bodies ${cacheDocumentBodies ? 'on' : 'off'})`, async () => {
    let now = 1_700_000_000_000
    const cache = await Cache.open({ dataDir: tempDir(), fsync: 'always', snapshotEveryMs: 0, dumpEveryMs: 0, sweepEveryMs: 0, now: () => now })
    const app = createApp(cache, { readJson: jsonReader(MAX), cacheDocumentBodies })
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' })
    await new Promise((r) => server.once('listening', r))
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    try {
      await cachedBodyScenario(
        (path, init) => Promise.resolve(app.request(path.replace('/docs/', '/req-docs/'), init)),
        (ms) => (now += ms),
      )
      await cachedBodyScenario(
        (path, init) => fetch(base + path.replace('/docs/', '/http-docs/'), init),
        (ms) => (now += ms),
      )
    } finally {
      await new Promise((r) => server.close(r))
      await cache.close()
    }
  })
}

test.run()
