import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { ConcurrentModificationException, LinkedHashMap, type MapEntry } from '../src/index.ts'

test('iterates in insertion order; re-putting a key keeps its place', () => {
  const map = new LinkedHashMap<string, number>()
  map.put('c', 1)
  map.put('a', 2)
  map.put('b', 3)
  map.put('c', 4)
  assert.equal(
    [...map],
    [
      ['c', 4],
      ['a', 2],
      ['b', 3],
    ],
  )
  map.remove('a')
  map.put('a', 5)
  assert.equal([...map.keys()], ['c', 'b', 'a'])
  assert.equal(map.firstEntry(), { key: 'c', value: 4 })
  assert.equal(map.lastEntry(), { key: 'a', value: 5 })
})

class Lru<K, V> extends LinkedHashMap<K, V> {
  readonly #max: number
  constructor(max: number) {
    super(null, { accessOrder: true })
    this.#max = max
  }
  protected override removeEldestEntry(): boolean {
    return this.size() > this.#max
  }
}

test('access order with removeEldestEntry makes an LRU cache', () => {
  const cache = new Lru<string, number>(2)
  cache.put('a', 1)
  cache.put('b', 2)
  assert.is(cache.get('a'), 1) // a is now the most recent
  cache.put('c', 3) // evicts b
  assert.equal([...cache.keys()], ['a', 'c'])
  cache.put('a', 10) // an update is an access too
  cache.put('d', 4) // evicts c
  assert.equal(
    [...cache],
    [
      ['a', 10],
      ['d', 4],
    ],
  )
})

test('removeEldestEntry as an option receives the eldest entry', () => {
  const evicted: MapEntry<number, string>[] = []
  const map = new LinkedHashMap<number, string>(null, {
    removeEldestEntry: (eldest, m) => m.size() > 3 && (evicted.push(eldest), true),
  })
  for (let i = 0; i < 6; i++) map.put(i, `v${i}`)
  assert.equal([...map.keys()], [3, 4, 5])
  assert.equal(
    evicted.map((e) => e.key),
    [0, 1, 2],
  )
})

test('in access order, get during iteration is a structural change (as in Java)', () => {
  const map = new LinkedHashMap<string, number>(
    [
      ['a', 1],
      ['b', 2],
    ],
    { accessOrder: true },
  )
  assert.throws(
    () => {
      for (const [k] of map) map.get(k === 'a' ? 'a' : 'b')
    },
    (e: unknown) => e instanceof ConcurrentModificationException,
  )
  const ordered = new LinkedHashMap<string, number>([
    ['a', 1],
    ['b', 2],
  ])
  for (const [k] of ordered) ordered.get(k) // harmless in insertion order
  const it = ordered.entryIterator()
  it.next()
  it.remove()
  assert.equal([...ordered], [['b', 2]])
})

test('property: access-ordered map agrees with an array model', () => {
  const op = fc.record({ op: fc.constantFrom('put', 'get', 'remove'), k: fc.integer({ min: 0, max: 6 }), v: fc.integer() })
  fc.assert(
    fc.property(fc.boolean(), fc.array(op, { maxLength: 80 }), (accessOrder, ops) => {
      const map = new LinkedHashMap<number, number>(null, { accessOrder, removeEldestEntry: (_, m) => m.size() > 4 })
      let model: [number, number][] = []
      const at = (k: number) => model.findIndex(([x]) => x === k)
      for (const { op, k, v } of ops) {
        const i = at(k)
        if (op === 'put') {
          assert.is(map.put(k, v), i >= 0 ? model[i]![1] : undefined)
          if (i >= 0) {
            if (accessOrder) {
              model.push([k, v])
              model.splice(i, 1)
            } else model[i] = [k, v]
          } else {
            model.push([k, v])
            if (model.length > 4) model.shift()
          }
        } else if (op === 'get') {
          assert.is(map.get(k), i >= 0 ? model[i]![1] : undefined)
          if (i >= 0 && accessOrder) model.push(model.splice(i, 1)[0]!)
        } else {
          assert.is(map.remove(k), i >= 0 ? model[i]![1] : undefined)
          if (i >= 0) model.splice(i, 1)
        }
        assert.equal([...map], model)
        model = [...model]
      }
    }),
    { numRuns: 300 },
  )
})

test.run()
