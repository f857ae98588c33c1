import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { serve } from '@hono/node-server'
import type { AddressInfo } from 'node:net'
import { Cache } from '../src/cache.ts'
import { createApp } from '../src/controllers/app.ts'
import { crudScenario } from './support/crud-scenario.ts'
import { tempDir } from './support/tmp.ts'

const MAX = 4096

async function openCache() {
  return Cache.open({ dataDir: tempDir(), fsync: 'always', snapshotEveryMs: 0, dumpEveryMs: 0 })
}

test('CRUD and every error code through app.request', async () => {
  const cache = await openCache()
  const app = createApp(cache, { maxBodyBytes: MAX })
  await crudScenario((path, init) => Promise.resolve(app.request(path, init)), MAX)
  await cache.close()
})

test('CRUD and every error code through a node:http server', async () => {
  const cache = await openCache()
  const app = createApp(cache, { maxBodyBytes: MAX })
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
  const app = createApp(cache, { maxBodyBytes: MAX })
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

test.run()
