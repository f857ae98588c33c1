import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Store } from '../src/store.ts'
import { etagOf } from '../src/document.ts'
import { AlreadyExistsError, ClosedError, InvalidNameError, NotFoundError, PreconditionFailedError, ValidationError } from '../src/errors.ts'
import { mergePatch } from '../src/merge-patch.ts'

test('create, get, put, patch, delete keep version, seq and ETag', () => {
  const store = new Store()
  const a = store.create('users', 'ann', { name: 'Ann', age: 30 })
  assert.ok(a.created)
  assert.is(a.doc.version, 1)
  assert.is(a.doc.seq, 1)
  assert.equal(store.get('users', 'ann')?.value, { name: 'Ann', age: 30 })
  const b = store.put('users', 'ann', { name: 'Ann B' })
  assert.not.ok(b.created)
  assert.is(b.doc.version, 2)
  assert.is(b.doc.createdAt, a.doc.createdAt)
  const c = store.patch('users', 'ann', { age: 31, tags: ['x'] })
  assert.equal(c.doc.value, { name: 'Ann B', age: 31, tags: ['x'] })
  assert.is(c.doc.version, 3)
  assert.is.not(etagOf(c.doc), etagOf(b.doc))
  const d = store.delete('users', 'ann')
  assert.is(d.deleted.version, 3)
  assert.is(store.get('users', 'ann'), undefined)
  assert.is(store.seq, 4)
})

test('POST generates an id and refuses an existing one', () => {
  const store = new Store()
  const gen = store.create('things', undefined, 1)
  assert.match(gen.doc.id, /^[0-9a-f-]{36}$/)
  store.create('things', 'one', 1)
  assert.throws(
    () => store.create('things', 'one', 2),
    (e: unknown) => e instanceof AlreadyExistsError,
  )
})

test('If-Match: current ETag passes, old or weak fails, * needs an existing document', () => {
  const store = new Store()
  const first = store.put('c', 'x', 1)
  const second = store.put('c', 'x', 2, { ifMatch: etagOf(first.doc) })
  assert.throws(
    () => store.put('c', 'x', 3, { ifMatch: etagOf(first.doc) }),
    (e: unknown) => e instanceof PreconditionFailedError,
  )
  assert.throws(
    () => store.patch('c', 'x', 3, { ifMatch: `W/${etagOf(second.doc)}` }),
    (e: unknown) => e instanceof PreconditionFailedError,
  )
  store.put('c', 'x', 4, { ifMatch: `"nope", ${etagOf(second.doc)}` })
  store.put('c', 'x', 5, { ifMatch: '*' })
  assert.throws(
    () => store.put('c', 'missing', 1, { ifMatch: '*' }),
    (e: unknown) => e instanceof PreconditionFailedError,
  )
})

test('an ETag never repeats across delete and re-create', () => {
  const store = new Store()
  const old = store.put('c', 'x', 1)
  store.delete('c', 'x')
  const fresh = store.put('c', 'x', 1)
  assert.is(fresh.doc.version, 1)
  assert.is.not(etagOf(fresh.doc), etagOf(old.doc))
  assert.throws(
    () => store.delete('c', 'x', { ifMatch: etagOf(old.doc) }),
    (e: unknown) => e instanceof PreconditionFailedError,
  )
})

test('names, TTL and limits are validated', () => {
  const store = new Store()
  assert.throws(
    () => store.put('_stats', 'x', 1),
    (e: unknown) => e instanceof InvalidNameError,
  )
  assert.throws(
    () => store.put('ok', 'a/b', 1),
    (e: unknown) => e instanceof InvalidNameError,
  )
  assert.throws(
    () => store.put('ok', '', 1),
    (e: unknown) => e instanceof InvalidNameError,
  )
  assert.throws(
    () => store.put('ok', 'x', 1, { ttlMs: -5 }),
    (e: unknown) => e instanceof ValidationError,
  )
  assert.throws(
    () => store.list('ok', { limit: 0 }),
    (e: unknown) => e instanceof ValidationError,
  )
  assert.throws(
    () => store.list('ok', { cursor: '!!' }),
    (e: unknown) => e instanceof ValidationError,
  )
  assert.throws(
    () => store.patch('ok', 'missing', {}),
    (e: unknown) => e instanceof NotFoundError,
  )
})

test('TTL: a document disappears after its expiry, PATCH keeps it, PUT clears it, sweep logs deletes', () => {
  let now = 1_000_000
  const logged: string[] = []
  const store = new Store({ now: () => now, journal: { append: async (m) => void logged.push(`${m.op}:${m.seq}`) } })
  store.put('s', 'a', 1, { ttlMs: 1000 })
  store.patch('s', 'a', 2)
  assert.is(store.get('s', 'a')?.expiresAt, now + 1000)
  store.put('s', 'b', 1, { ttlMs: 500 })
  store.put('s', 'b', 2)
  assert.is(store.get('s', 'b')?.expiresAt, null)
  now += 1000
  assert.is(store.get('s', 'a'), undefined)
  assert.equal(
    store.list('s').items.map((d) => d.id),
    ['b'],
  )
  assert.is(store.sweepExpired(), 1)
  assert.is(store.size, 1)
  assert.equal(logged.at(-1), `delete:${store.seq}`)
  // An expired document can be created again.
  store.create('s', 'a', 3)
})

test('list: sorted, paged with a cursor, filtered by prefix', () => {
  const store = new Store()
  for (const id of ['b2', 'a1', 'b1', 'c1', 'b3']) store.put('l', id, id)
  const p1 = store.list('l', { limit: 2 })
  assert.equal(
    p1.items.map((d) => d.id),
    ['a1', 'b1'],
  )
  const p2 = store.list('l', { limit: 2, cursor: p1.nextCursor! })
  assert.equal(
    p2.items.map((d) => d.id),
    ['b2', 'b3'],
  )
  const p3 = store.list('l', { limit: 2, cursor: p2.nextCursor! })
  assert.equal(
    p3.items.map((d) => d.id),
    ['c1'],
  )
  assert.is(p3.nextCursor, null)
  assert.equal(
    store.list('l', { prefix: 'b' }).items.map((d) => d.id),
    ['b1', 'b2', 'b3'],
  )
  assert.equal(store.list('none').items, [])
  assert.equal(store.collections(), [{ name: 'l', documents: 5 }])
})

test('interleaved async read-modify-write with If-Match never loses an update', async () => {
  const store = new Store({ journal: { append: () => new Promise((r) => setTimeout(r, Math.random() * 3)) } })
  store.put('n', 'counter', { n: 0 })
  const writers = Array.from({ length: 50 }, async () => {
    for (;;) {
      const doc = store.get('n', 'counter')!
      await new Promise((r) => setTimeout(r, Math.random() * 2))
      try {
        const w = store.put('n', 'counter', { n: (doc.value as { n: number }).n + 1 }, { ifMatch: etagOf(doc) })
        await w.durable
        return
      } catch (err) {
        if (!(err instanceof PreconditionFailedError)) throw err
      }
    }
  })
  await Promise.all(writers)
  assert.equal(store.get('n', 'counter')!.value, { n: 50 })
  assert.is(store.get('n', 'counter')!.version, 51)
})

test('a closed store refuses writes and keeps reads', () => {
  const store = new Store()
  store.put('c', 'x', 1)
  store.close()
  assert.throws(
    () => store.put('c', 'y', 1),
    (e: unknown) => e instanceof ClosedError,
  )
  assert.is(store.get('c', 'x')?.value, 1)
})

test('JSON merge patch (RFC 7396)', () => {
  assert.equal(mergePatch({ a: 'b', c: { d: 'e', f: 'g' } }, { a: 'z', c: { f: null } }), { a: 'z', c: { d: 'e' } })
  assert.equal(mergePatch({ a: [1] }, { a: [2] }), { a: [2] })
  assert.equal(mergePatch([1], { a: 1 }), { a: 1 })
  assert.equal(mergePatch({ a: 1 }, 'x'), 'x')
})

test('image and load round-trip', () => {
  const a = new Store()
  a.put('x', '1', { v: 1 })
  a.put('y', '2', [1, 2])
  a.delete('x', '1')
  const b = new Store()
  b.load(a.image())
  assert.is(b.seq, a.seq)
  assert.equal(b.image().documents, a.image().documents)
})

test.run()
