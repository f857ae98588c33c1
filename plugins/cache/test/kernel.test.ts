// Wire tests: the plugin loaded by a real kernel, spoken to over HTTP.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { startTestKernel } from '@armature/testing'
import { RedisDump } from '../src/redis-dump.ts'
import { recover } from '../src/data-dir.ts'
import { crudScenario } from './support/crud-scenario.ts'
import { REDIS_URL, testRedis, uniquePrefix } from './support/redis.ts'
import { tempDir } from './support/tmp.ts'

const PLUGIN = fileURLToPath(new URL('..', import.meta.url))
const base = uniquePrefix('kernel')
const redis = testRedis(base)
let n = 0

function env(extra: Record<string, string> = {}) {
  return {
    CACHE_REDIS_URL: REDIS_URL,
    CACHE_REDIS_PREFIX: `${base}:${++n}`,
    CACHE_FSYNC: 'always',
    CACHE_MAX_BODY_BYTES: '4096',
    DATA_DIR: tempDir('kernel'),
    ...extra,
  }
}

test.after(() => redis.cleanup())

test('CRUD with every error code through the kernel at /cache', async () => {
  const k = await startTestKernel({ plugins: [PLUGIN], env: env() })
  try {
    await crudScenario((path, init) => fetch(`${k.url}/cache${path === '/' ? '' : path}`, init), 4096)
    const metrics = await (await fetch(`${k.url}/metrics`)).text()
    assert.match(metrics, /armature_cache_mutations_total\{kind="put"\} \d+/)
  } finally {
    await k.stop()
  }
})

test('ETag conflicts under 100 concurrent writers to one document', async () => {
  const k = await startTestKernel({ plugins: [PLUGIN], env: env() })
  const url = `${k.url}/cache/counters/shared`
  try {
    await fetch(url, { method: 'PUT', body: '{"n":0}', headers: { 'content-type': 'application/json' } })
    let conflicts = 0
    await Promise.all(
      Array.from({ length: 100 }, async () => {
        for (;;) {
          const got = await fetch(url)
          const { value } = (await got.json()) as { value: { n: number } }
          const res = await fetch(url, {
            method: 'PUT',
            body: JSON.stringify({ n: value.n + 1 }),
            headers: { 'content-type': 'application/json', 'if-match': got.headers.get('etag')! },
          })
          await res.arrayBuffer()
          if (res.status === 200) return
          assert.is(res.status, 412)
          conflicts++
        }
      }),
    )
    const final = (await (await fetch(url)).json()) as { value: { n: number }; version: number }
    assert.equal(final.value, { n: 100 })
    assert.is(final.version, 101)
    assert.ok(conflicts > 0, 'the writers raced')
  } finally {
    await k.stop()
  }
})

test('graceful stop writes the final Redis dump; a restart restores it', async () => {
  const e = env({ CACHE_DUMP_EVERY_MS: '0', CACHE_SNAPSHOT_EVERY_MS: '0' })
  const k = await startTestKernel({ plugins: [PLUGIN], env: e })
  for (let i = 0; i < 20; i++) {
    const res = await fetch(`${k.url}/cache/items/i${i}`, { method: 'PUT', body: JSON.stringify({ i }), headers: { 'content-type': 'application/json' } })
    assert.is(res.status, 201)
  }
  const dump = new RedisDump(redis, e.CACHE_REDIS_PREFIX)
  const before = await dump.currentSeq()
  assert.ok(before === undefined || before < 20, 'no periodic dump ran')
  await k.stop()
  const image = await dump.read()
  assert.is(image?.seq, 20)
  assert.is(image?.documents.length, 20)

  // The next start restores (Redis and file agree; the file is chosen on a tie).
  const k2 = await startTestKernel({ plugins: [PLUGIN], env: e })
  try {
    const stats = (await (await fetch(`${k2.url}/cache/_stats`)).json()) as { seq: number; documents: number; restore: { source: string } }
    assert.is(stats.seq, 20)
    assert.is(stats.documents, 20)
    assert.is(stats.restore.source, 'file')
  } finally {
    await k2.stop()
  }
  // And from Redis alone, with an empty data folder.
  const k3 = await startTestKernel({ plugins: [PLUGIN], env: { ...e, DATA_DIR: tempDir('kernel') } })
  try {
    const stats = (await (await fetch(`${k3.url}/cache/_stats`)).json()) as { seq: number; restore: { source: string } }
    assert.is(stats.restore.source, 'redis')
    assert.is(stats.seq, 20)
  } finally {
    await k3.stop()
  }
  const file = await recover(`${e.DATA_DIR}/cache`, { repair: false })
  assert.is(file.image.seq, 20)
})

test('a 5,000-deep document is refused with 400 naming HTTP_MAX_JSON_DEPTH; reads, lists, the dump and a restart stay whole', async () => {
  // A 30 KB body: well within a body limit of 1 MiB.
  const e = env({ CACHE_MAX_BODY_BYTES: '1048576' })
  const json = { 'content-type': 'application/json' }
  const deep = '{"a":'.repeat(5000) + '1' + '}'.repeat(5000)
  const k = await startTestKernel({ plugins: [PLUGIN], env: e })
  try {
    assert.is((await fetch(`${k.url}/cache/users/ann`, { method: 'PUT', body: '{"name":"Ann"}', headers: json })).status, 201)
    const refused = await fetch(`${k.url}/cache/users/deep`, { method: 'PUT', body: deep, headers: json })
    assert.is(refused.status, 400)
    assert.match(((await refused.json()) as { error: string }).error, /nests deeper than 64 levels at position 320 \(HTTP_MAX_JSON_DEPTH\)/)
    const patch = await fetch(`${k.url}/cache/users/ann`, { method: 'PATCH', body: `{"more":${deep}}`, headers: json })
    assert.is(patch.status, 400)
    assert.is((await fetch(`${k.url}/cache/users/deep`)).status, 404)
    assert.equal(((await (await fetch(`${k.url}/cache/users/ann`)).json()) as { value: unknown }).value, { name: 'Ann' })
    assert.equal(
      ((await (await fetch(`${k.url}/cache/users`)).json()) as { items: { id: string }[] }).items.map((d) => d.id),
      ['ann'],
    )
    const dump = await fetch(`${k.url}/cache/_dump`)
    assert.is(dump.status, 200)
    assert.is(((await dump.json()) as { documents: unknown[] }).documents.length, 1)
  } finally {
    await k.stop()
  }
  const k2 = await startTestKernel({ plugins: [PLUGIN], env: e })
  try {
    assert.equal(((await (await fetch(`${k2.url}/cache/users/ann`)).json()) as { value: unknown }).value, { name: 'Ann' })
  } finally {
    await k2.stop()
  }
})

test('CACHE_API_KEY: writes, deletes and the dump need the bearer key; reads stay open; unset, all is open with a warning', async () => {
  const json = { 'content-type': 'application/json' }
  const k = await startTestKernel({ plugins: [PLUGIN], env: env({ CACHE_API_KEY: 'cache-key' }) })
  try {
    const url = `${k.url}/cache/users/ann`
    const key = { authorization: 'Bearer cache-key' }
    const missing = await fetch(url, { method: 'PUT', body: '{"n":1}', headers: json })
    assert.is(missing.status, 401)
    assert.is(missing.headers.get('www-authenticate'), 'Bearer')
    assert.ok(missing.headers.get('etag'))
    assert.match(((await missing.json()) as { error: string }).error, /Authorization: Bearer <CACHE_API_KEY>/)
    const wrong = await fetch(url, { method: 'PUT', body: '{"n":1}', headers: { ...json, authorization: 'Bearer cache-key-2' } })
    assert.is(wrong.status, 401)
    assert.is((await fetch(url, { method: 'PUT', body: '{"n":1}', headers: { ...json, ...key } })).status, 201)
    assert.is((await fetch(url, { method: 'PATCH', body: '{"m":2}', headers: { ...json, authorization: 'bearer cache-key' } })).status, 200, 'the scheme in any case')
    assert.is((await fetch(`${k.url}/cache/users?id=bob`, { method: 'POST', body: '{}', headers: json })).status, 401)
    // Reads need no key; the dump (the whole store at once) does.
    assert.is((await fetch(url)).status, 200)
    assert.is((await fetch(`${k.url}/cache/users`)).status, 200)
    assert.is((await fetch(`${k.url}/cache/_stats`)).status, 200)
    assert.is((await fetch(`${k.url}/cache/_dump`)).status, 401)
    assert.is((await fetch(`${k.url}/cache/_dump`, { method: 'HEAD' })).status, 401)
    assert.is((await fetch(`${k.url}/cache/_dump`, { headers: key })).status, 200)
    assert.is((await fetch(url, { method: 'DELETE' })).status, 401)
    assert.is((await fetch(url, { method: 'DELETE', headers: key })).status, 204)
    // Refused before names or routes are looked at.
    assert.is((await fetch(`${k.url}/cache/-bad/x`, { method: 'PUT', body: '{}', headers: json })).status, 401)
  } finally {
    await k.stop()
  }
  const open = await startTestKernel({ plugins: [PLUGIN], env: env() })
  try {
    assert.is((await fetch(`${open.url}/cache/users/ann`, { method: 'PUT', body: '{"n":1}', headers: json })).status, 201)
    assert.is((await fetch(`${open.url}/cache/_dump`)).status, 200)
    assert.match(readFileSync(open.logFile, 'utf8'), /CACHE_API_KEY is not set: writes, deletes and GET \/cache\/_dump are open/)
  } finally {
    await open.stop()
  }
})

test('an invalid fsync policy stops start-up naming CACHE_FSYNC and the valid values', async () => {
  try {
    const k = await startTestKernel({ plugins: [PLUGIN], env: env({ CACHE_FSYNC: 'sometimes' }), terminalLogLevel: 'silent' })
    await k.stop()
    assert.unreachable('booted with CACHE_FSYNC=sometimes')
  } catch (err) {
    assert.is((err as Error).message, 'CACHE_FSYNC=sometimes: must be one of always, everysec, no')
  }
})

test.run()
