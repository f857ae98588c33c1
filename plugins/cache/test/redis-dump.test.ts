import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { RedisDump } from '../src/redis-dump.ts'
import { Store } from '../src/store.ts'
import { CorruptDataError } from '../src/errors.ts'
import { testRedis, uniquePrefix } from './support/redis.ts'

const prefix = uniquePrefix('dump')
const redis = testRedis(prefix)
const dump = new RedisDump(redis, prefix)

test.after(() => redis.cleanup())

test('a dump is versioned: the pointer moves forward and the previous dump is removed', async () => {
  const store = new Store()
  store.put('c', 'a', 1)
  const first = await dump.write(store.image())
  assert.equal(first.written, true)
  assert.is(await dump.currentSeq(), 1)
  store.put('c', 'b', 2)
  store.put('c', 'a', 3)
  const second = await dump.write(store.image())
  assert.is(second.seq, 3)
  assert.is(await redis.exists(`${prefix}:dump:1`), 0, 'previous dump deleted')
  assert.is(await redis.pttl(`${prefix}:dump:3`), -1, 'current dump has no expiry')
  const read = await dump.read()
  assert.is(read?.seq, 3)
  assert.equal(read?.documents.map((d) => [d.id, d.value]).sort(), [
    ['a', 3],
    ['b', 2],
  ])
  // An older image never moves the pointer back.
  const older = new Store()
  older.put('c', 'z', 0)
  assert.equal((await dump.write(older.image())).written, false)
  assert.is(await dump.currentSeq(), 3)
})

test('a half-written dump (key written, pointer not switched) is never restored and expires', async () => {
  await redis.set(`${prefix}:dump:99`, '{"format":"armature-cache-image","version":1,"seq":99,"docu', 'PX', 3_600_000)
  const read = await dump.read()
  assert.is(read?.seq, 3)
  assert.ok((await redis.pttl(`${prefix}:dump:99`)) > 0, 'orphan carries an expiry')
})

test('a dump that the pointer names but cannot be decoded is a CorruptDataError', async () => {
  const p = uniquePrefix('dump-bad')
  const bad = new RedisDump(redis, p)
  await redis.set(`${p}:current`, '5')
  await redis.set(`${p}:dump:5`, 'not json')
  try {
    await bad.read()
    assert.unreachable()
  } catch (err) {
    assert.instance(err, CorruptDataError)
  }
  await redis.del(`${p}:current`, `${p}:dump:5`)
  assert.is(await bad.read(), undefined)
})

test.run()
