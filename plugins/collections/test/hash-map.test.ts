import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { ConcurrentModificationException, HashMap, HashSet, hashOf, IllegalStateException, type Hasher } from '../src/index.ts'

/** A key with value equality; hashCode deliberately collides often to exercise chains. */
class Point {
  constructor(
    readonly x: number,
    readonly y: number,
  ) {}
  equals(other: unknown): boolean {
    return other instanceof Point && other.x === this.x && other.y === this.y
  }
  hashCode(): number {
    return (this.x + this.y) & 3
  }
}

test('keys with equals/hashCode are found by value', () => {
  const map = new HashMap<Point, string>()
  assert.is(map.put(new Point(1, 2), 'a'), undefined)
  assert.is(map.put(new Point(2, 1), 'b'), undefined) // same hash, different key
  assert.is(map.put(new Point(1, 2), 'c'), 'a')
  assert.is(map.size(), 2)
  assert.is(map.get(new Point(1, 2)), 'c')
  assert.ok(map.containsKey(new Point(2, 1)))
  assert.ok(map.containsValue('b'))
  assert.is(map.remove(new Point(2, 1)), 'b')
  assert.is(map.remove(new Point(2, 1)), undefined)
  assert.is(map.size(), 1)
})

test('primitives by value, plain objects by identity, NaN equals NaN', () => {
  const map = new HashMap<unknown, number>()
  const obj = { a: 1 }
  map.put(1, 1)
  map.put('1', 2)
  map.put(obj, 3)
  map.put({ a: 1 }, 4)
  map.put(NaN, 5)
  map.put(null, 6)
  map.put(undefined, 7)
  assert.is(map.size(), 7)
  assert.is(map.get(obj), 3)
  assert.is(map.get(NaN), 5)
  assert.is(map.get(null), 6)
  assert.ok(map.containsKey(undefined))
  assert.is(map.getOrDefault('missing', 0), 0)
})

test('a supplied Hasher decides equality for every key', () => {
  const tuples: Hasher<readonly [number, number]> = {
    hash: ([a, b]) => a * 31 + b,
    equals: (p, q) => p[0] === q[0] && p[1] === q[1],
  }
  const map = new HashMap<readonly [number, number], string>(null, { hasher: tuples })
  map.put([1, 2], 'x')
  assert.is(map.get([1, 2]), 'x')
  assert.is(map.get([2, 1]), undefined)
  const set = new HashSet<readonly [number, number]>(
    [
      [1, 1],
      [1, 1],
      [2, 2],
    ],
    { hasher: tuples },
  )
  assert.is(set.size(), 2)
})

test('compute, merge, putIfAbsent and views', () => {
  const map = HashMap.from(
    new Map([
      ['a', 1],
      ['b', 2],
    ]),
  )
  assert.is(
    map.merge('a', 10, (x, y) => x + y),
    11,
  )
  assert.is(
    map.merge('c', 5, (x, y) => x + y),
    5,
  )
  assert.is(
    map.computeIfAbsent('d', () => 4),
    4,
  )
  assert.is(
    map.computeIfAbsent('d', () => 99),
    4,
  )
  assert.is(
    map.computeIfPresent('b', () => undefined),
    undefined,
  )
  assert.not.ok(map.containsKey('b'))
  assert.is(
    map.compute('e', (_, v) => (v ?? 0) + 1),
    1,
  )
  assert.is(map.putIfAbsent('e', 7), 1)
  assert.equal(
    new Map(map),
    new Map([
      ['a', 11],
      ['c', 5],
      ['d', 4],
      ['e', 1],
    ]),
  )
  assert.ok(map.keySet().remove('a'))
  assert.not.ok(map.containsKey('a'))
  assert.equal([...map.values()].sort(), [1, 4, 5])
  assert.ok(map.entrySet().contains({ key: 'c', value: 5 }))
  map.keySet().removeIf((k) => k === 'c')
  assert.equal(
    map.toMap(),
    new Map([
      ['d', 4],
      ['e', 1],
    ]),
  )
  assert.ok(
    map.equals(
      new HashMap([
        ['e', 1],
        ['d', 4],
      ]),
    ),
  )
  assert.is(
    map.hashCode(),
    new HashMap([
      ['e', 1],
      ['d', 4],
    ]).hashCode(),
  )
  assert.is(map.hashCode(), (hashOf('d') ^ hashOf(4)) + (hashOf('e') ^ hashOf(1)))
})

test('iterators are fail-fast; Iterator.remove is allowed', () => {
  const map = new HashMap<unknown, number>([
    [1, 1],
    [2, 2],
    [new Point(0, 0), 3],
    [new Point(0, 4), 4],
  ])
  assert.throws(
    () => {
      for (const [k] of map) if (k === 1) map.put(99, 0)
    },
    (e: unknown) => e instanceof ConcurrentModificationException,
  )
  // replacing a value is not structural
  for (const [k] of map) map.put(k, 0)
  const it = map.entryIterator()
  assert.throws(
    () => it.remove(),
    (e: unknown) => e instanceof IllegalStateException,
  )
  while (it.hasNext()) {
    it.next()
    it.remove()
  }
  assert.is(map.size(), 0)
  const set = HashSet.of(1, 2, 3)
  assert.throws(
    () => {
      for (const x of set) set.remove(x)
    },
    (e: unknown) => e instanceof ConcurrentModificationException,
  )
})

test('HashSet: set semantics and conversions', () => {
  const set = new HashSet<Point>()
  assert.ok(set.add(new Point(1, 1)))
  assert.not.ok(set.add(new Point(1, 1)))
  assert.ok(set.contains(new Point(1, 1)))
  assert.ok(set.remove(new Point(1, 1)))
  assert.ok(set.isEmpty())
  const words = HashSet.from(['a', 'b', 'a'])
  assert.equal([...words].sort(), ['a', 'b'])
  assert.equal(words.toSet(), new Set(['a', 'b']))
  assert.ok(words.equals(HashSet.of('b', 'a')))
  assert.is(words.hashCode(), HashSet.of('b', 'a').hashCode())
})

test('property: agrees with a native Map keyed by a string encoding', () => {
  const key = fc.oneof(
    fc.integer({ min: 0, max: 8 }),
    fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 })).map(([x, y]) => new Point(x, y)),
  )
  const enc = (k: number | Point) => (k instanceof Point ? `p${k.x},${k.y}` : `n${k}`)
  const op = fc.record({ op: fc.constantFrom('put', 'remove', 'get', 'iterRemove'), k: key, v: fc.integer() })
  fc.assert(
    fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
      const map = new HashMap<number | Point, number>()
      const model = new Map<string, number>()
      for (const { op, k, v } of ops) {
        if (op === 'put') {
          assert.is(map.put(k, v), model.get(enc(k)))
          model.set(enc(k), v)
        } else if (op === 'remove') {
          assert.is(map.remove(k), model.get(enc(k)))
          model.delete(enc(k))
        } else if (op === 'get') {
          assert.is(map.get(k), model.get(enc(k)))
          assert.is(map.containsKey(k), model.has(enc(k)))
        } else {
          const it = map.entryIterator()
          while (it.hasNext()) {
            const e = it.next()
            if (e.value % 2 === 0) {
              it.remove()
              model.delete(enc(e.key))
            }
          }
        }
        assert.is(map.size(), model.size)
        assert.equal(new Map([...map].map(([k, v]) => [enc(k), v])), model)
      }
    }),
    { numRuns: 300 },
  )
})

test.run()
