// Wire tests: the plugin loaded by a real kernel, spoken to over HTTP.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
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
