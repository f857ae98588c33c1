import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Cache, type CacheOptions } from '../src/cache.ts'
import { recover } from '../src/data-dir.ts'
import { RedisDump } from '../src/redis-dump.ts'
import { chooseRestore } from '../src/restore.ts'
import { emptyImage } from '../src/image.ts'
import { memoryLogger } from './support/logger.ts'
import { until } from './support/poll.ts'
import { REDIS_URL, redisTarget, testRedis, uniquePrefix } from './support/redis.ts'
import { startTcpProxy } from './support/tcp-proxy.ts'
import { tempDir } from './support/tmp.ts'

const base = uniquePrefix('restore')
const redis = testRedis(base)
let n = 0
const opened: Cache[] = []

async function open(o: CacheOptions): Promise<Cache> {
  const cache = await Cache.open(o)
  opened.push(cache)
  return cache
}

function options(extra: Partial<CacheOptions> = {}): CacheOptions {
  return {
    dataDir: tempDir(),
    fsync: 'always',
    redisUrl: REDIS_URL,
    redisPrefix: `${base}:${++n}`,
    snapshotEveryMs: 0,
    dumpEveryMs: 0,
    redisConnectTimeoutMs: 500,
    ...extra,
  }
}

function sortedDocs(docs: readonly { collection: string; id: string }[]) {
  return [...docs].sort((a, b) => (`${a.collection}/${a.id}` < `${b.collection}/${b.id}` ? -1 : 1))
}

test.after(async () => {
  for (const cache of opened) await cache.close().catch(() => {})
  await redis.cleanup()
})

test('chooseRestore: higher seq wins, a tie and any Redis problem go to the file', () => {
  const file = { ...emptyImage(), seq: 5, documents: [] }
  const newer = { ...emptyImage(), seq: 9 }
  const older = { ...emptyImage(), seq: 2 }
  assert.is(chooseRestore(file, { configured: true, image: newer }).source, 'redis')
  assert.is(chooseRestore(file, { configured: true, image: older }).source, 'file')
  assert.match(chooseRestore(file, { configured: true, image: older }).reason, /file is newer \(seq 5 > Redis dump seq 2\)/)
  assert.is(chooseRestore(file, { configured: true, image: { ...newer, seq: 5 } }).source, 'file')
  assert.match(chooseRestore(file, { configured: true, error: 'ECONNREFUSED' }).reason, /unavailable \(ECONNREFUSED\)/)
  assert.is(chooseRestore(emptyImage(), { configured: false }).source, 'empty')
})

test('newer Redis dump wins at start-up, and the file is brought level with it', async () => {
  const opts = options()
  const a = await open(opts)
  await a.store.put('c', 'x', 1).durable
  await a.close()
  // Another writer moved Redis ahead (for example this service on another host with a lost disk).
  const other = await open({ ...options(), redisPrefix: opts.redisPrefix! })
  assert.is(other.restore.source, 'redis')
  for (let i = 0; i < 5; i++) await other.store.put('c', `y${i}`, i).durable
  await other.close()

  const log = memoryLogger()
  const b = await open({ ...opts, log })
  assert.is(b.restore.source, 'redis')
  assert.is(b.restore.fileSeq, 1)
  assert.is(b.restore.redisSeq, 6)
  assert.match(log.lines.find((l) => l.msg.startsWith('restored'))!.msg, /restored from redis: Redis dump is newer \(seq 6 > file seq 1\)/)
  assert.is(b.store.get('c', 'y4')?.value, 4)
  await b.store.put('c', 'z', true).durable
  await b.closeFile()
  const file = await recover(opts.dataDir, { repair: false })
  assert.is(file.image.seq, 7)
  assert.equal(sortedDocs(file.image.documents), sortedDocs(b.store.image().documents))
  await b.closeRedis()
})

test('newer file wins at start-up, and Redis is brought level with it', async () => {
  const opts = options()
  const a = await open(opts)
  await a.store.put('c', 'x', 1).durable
  await a.close()
  // Writes while Redis was not configured: only the file saw them.
  const fileOnly = await open({ ...opts, redisUrl: '' })
  for (let i = 0; i < 3; i++) await fileOnly.store.put('c', `f${i}`, i).durable
  await fileOnly.close()

  const b = await open(opts)
  assert.is(b.restore.source, 'file')
  assert.match(b.restore.reason, /file is newer \(seq 4 > Redis dump seq 1\)/)
  const dump = new RedisDump(redis, opts.redisPrefix!)
  assert.is(await dump.currentSeq(), 4, 'start-up dumped the newer file state')
  await b.close()
})

test('Redis unreachable at start: the file serves; when Redis returns the next dump catches up', async () => {
  const proxy = await startTcpProxy(redisTarget())
  proxy.cut()
  const opts = options({ redisUrl: proxy.url })
  const log = memoryLogger()
  const a = await open({ ...opts, log })
  assert.is(a.restore.source, 'empty')
  assert.match(a.restore.reason, /Redis dump unavailable/)
  for (let i = 0; i < 10; i++) await a.store.put('c', `k${i}`, i).durable
  assert.is(await a.dumpToRedis(), undefined, 'dump fails while cut')
  assert.ok(a.stats().redis.lastError)
  proxy.restore()
  const result = await until('a dump after Redis returns', () => a.dumpToRedis(), 10_000)
  assert.is(result.seq, 10)
  assert.ok(log.lines.some((l) => l.msg === 'Redis dump caught up after an outage'))
  const dump = new RedisDump(redis, opts.redisPrefix!)
  assert.is((await dump.read())?.documents.length, 10)
  await a.close()
  await proxy.close()
})

test('Redis cut during writes: no write fails, the file holds them all, the next dump catches up', async () => {
  const proxy = await startTcpProxy(redisTarget())
  const opts = options({ redisUrl: proxy.url, dumpEveryMs: 20 })
  const a = await open(opts)
  const writes: Promise<void>[] = []
  for (let i = 0; i < 300; i++) {
    if (i === 100) proxy.cut()
    if (i === 200) proxy.restore()
    writes.push(a.store.put('c', `k${i % 50}`, i).durable)
    if (i % 10 === 0) await new Promise((r) => setImmediate(r))
  }
  await Promise.all(writes)
  const dump = new RedisDump(redis, opts.redisPrefix!)
  await until('Redis dump at the final seq', async () => (await dump.currentSeq()) === 300, 10_000)
  await a.close()
  const file = await recover(opts.dataDir, { repair: false })
  const fromRedis = await dump.read()
  assert.equal(sortedDocs(fromRedis!.documents), sortedDocs(file.image.documents))
  await proxy.close()
})

test('1,000 concurrent mutations, then restart: identical state from the file and from Redis', async () => {
  const opts = options({ fsync: 'everysec', dumpEveryMs: 5, snapshotEveryMs: 7 })
  const a = await open(opts)
  const ops = Array.from({ length: 1000 }, async (_, i) => {
    await new Promise((r) => setTimeout(r, Math.random() * 20))
    const id = `k${i % 37}`
    if (i % 5 === 4 && a.store.get('m', id)) return a.store.delete('m', id).durable
    if (i % 3 === 0 && a.store.get('m', id)) return a.store.patch('m', id, { [`f${i % 4}`]: i }).durable
    return a.store.put('m', id, { i }, i % 7 === 0 ? { ttlMs: 3_600_000 } : {}).durable
  })
  await Promise.all(ops)
  const expected = sortedDocs(a.store.image().documents)
  const seq = a.store.seq
  assert.is(seq, 1000)
  await a.close()

  const fromFile = await open({ ...opts, redisUrl: '' })
  assert.is(fromFile.restore.source, 'file')
  assert.is(fromFile.store.seq, seq)
  assert.equal(sortedDocs(fromFile.store.image().documents), expected)
  await fromFile.close()

  const fromRedis = await open({ ...opts, dataDir: tempDir() })
  assert.is(fromRedis.restore.source, 'redis')
  assert.is(fromRedis.store.seq, seq)
  assert.equal(sortedDocs(fromRedis.store.image().documents), expected)
  await fromRedis.close()
})

test('the final dump is not satisfied by a periodic dump already in flight', async () => {
  const opts = options({ dumpEveryMs: 1, fsync: 'no' })
  const a = await open(opts)
  for (let round = 0; round < 20; round++) {
    const pending = a.dumpToRedis()
    a.store.put('c', `k${round}`, round)
    const final = a.dumpToRedis()
    await pending
    const result = await final
    assert.is(result?.seq ?? (await new RedisDump(redis, opts.redisPrefix!).currentSeq()), a.store.seq)
  }
  a.store.put('c', 'last', true)
  assert.ok(await a.finalDump())
  assert.is(await new RedisDump(redis, opts.redisPrefix!).currentSeq(), a.store.seq)
  await a.close()
})

test('a corrupt Redis dump is reported and the file serves', async () => {
  const opts = options()
  const a = await open({ ...opts, redisUrl: '' })
  await a.store.put('c', 'x', 1).durable
  await a.close()
  await redis.set(`${opts.redisPrefix}:current`, '50')
  await redis.set(`${opts.redisPrefix}:dump:50`, '{broken')
  const b = await open(opts)
  assert.is(b.restore.source, 'file')
  assert.match(b.restore.reason, /not valid JSON/)
  const dump = new RedisDump(redis, opts.redisPrefix!)
  assert.is(await dump.currentSeq(), 1, 'the corrupt dump was replaced by the file state')
  await b.close()
})

test.run()
