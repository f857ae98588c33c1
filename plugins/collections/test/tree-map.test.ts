import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ConcurrentModificationException, IllegalArgumentException, NoSuchElementException, reverseOrder, TreeMap, UnsupportedOperationException } from '../src/index.ts'

const sample = () =>
  TreeMap.from(
    new Map([
      [10, 'a'],
      [20, 'b'],
      [30, 'c'],
      [40, 'd'],
      [50, 'e'],
    ]),
  )

test('sorted order, conversions to and from native Map', () => {
  const map = TreeMap.from(
    new Map([
      ['b', 2],
      ['c', 3],
      ['a', 1],
    ]),
  )
  assert.equal(
    [...map],
    [
      ['a', 1],
      ['b', 2],
      ['c', 3],
    ],
  )
  assert.equal(
    map.toMap(),
    new Map([
      ['a', 1],
      ['b', 2],
      ['c', 3],
    ]),
  )
  assert.equal(map.toArray(), [
    ['a', 1],
    ['b', 2],
    ['c', 3],
  ])
  assert.is(map.toString(), '{"a"=1, "b"=2, "c"=3}')
  assert.ok(
    map.equals(
      TreeMap.from([
        ['c', 3],
        ['a', 1],
        ['b', 2],
      ]),
    ),
  )
})

test('navigation: first/last, floor/ceiling/higher/lower, poll', () => {
  const map = sample()
  assert.is(map.firstKey(), 10)
  assert.is(map.lastKey(), 50)
  assert.is(map.floorKey(25), 20)
  assert.is(map.floorKey(20), 20)
  assert.is(map.floorKey(5), undefined)
  assert.is(map.ceilingKey(25), 30)
  assert.is(map.ceilingKey(55), undefined)
  assert.is(map.higherKey(30), 40)
  assert.is(map.lowerKey(30), 20)
  assert.equal(map.floorEntry(45), { key: 40, value: 'd' })
  assert.equal(map.pollFirstEntry(), { key: 10, value: 'a' })
  assert.equal(map.pollLastEntry(), { key: 50, value: 'e' })
  assert.is(map.size(), 3)
  const empty = new TreeMap<number, string>()
  assert.throws(
    () => empty.firstKey(),
    (e: unknown) => e instanceof NoSuchElementException,
  )
  assert.throws(
    () => empty.lastKey(),
    (e: unknown) => e instanceof NoSuchElementException,
  )
  assert.is(empty.pollFirstEntry(), undefined)
  assert.is(empty.firstEntry(), undefined)
})

test('headMap, tailMap, subMap and descendingMap are live views', () => {
  const map = sample()
  const head = map.headMap(30)
  const tail = map.tailMap(30)
  const sub = map.subMap(20, true, 40, true)
  assert.equal([...head.keys()], [10, 20])
  assert.equal([...tail.keys()], [30, 40, 50])
  assert.equal([...map.headMap(30, true).keys()], [10, 20, 30])
  assert.equal([...map.subMap(20, 40).keys()], [20, 30])
  map.put(15, 'x') // visible through the views
  assert.equal([...head.keys()], [10, 15, 20])
  sub.remove(30) // removes from the map
  assert.not.ok(map.containsKey(30))
  assert.equal([...map.descendingMap().keys()], [50, 40, 20, 15, 10])
  assert.equal([...map.descendingMap().headMap(20).keys()], [50, 40])
  assert.equal([...map.descendingKeySet()], [50, 40, 20, 15, 10])
  assert.is(sub.firstKey(), 20)
  assert.is(sub.descendingMap().firstKey(), 40)
  head.clear()
  assert.equal([...map.keys()], [40, 50])
})

test('views refuse keys outside their range with IllegalArgumentException', () => {
  const map = sample()
  const head = map.headMap(30)
  assert.throws(
    () => head.put(35, 'z'),
    (e: unknown) => e instanceof IllegalArgumentException && /35/.test((e as Error).message),
  )
  assert.throws(
    () => head.headMap(40),
    (e: unknown) => e instanceof IllegalArgumentException,
  )
  assert.throws(
    () => map.subMap(40, 20),
    (e: unknown) => e instanceof IllegalArgumentException,
  )
  assert.is(head.get(40), undefined)
  assert.is(head.remove(40), undefined)
  assert.ok(map.containsKey(40))
})

test('keySet is a live NavigableSet; adding to it is unsupported', () => {
  const map = sample()
  const keys = map.navigableKeySet()
  assert.is(keys.first(), 10)
  assert.is(keys.ceiling(11), 20)
  assert.ok(keys.remove(10))
  assert.not.ok(map.containsKey(10))
  assert.throws(
    () => keys.add(5),
    (e: unknown) => e instanceof UnsupportedOperationException,
  )
  assert.equal([...map.keySet().headSet(40)], [20, 30])
})

test('iterators are fail-fast; Iterator.remove works, also on nodes with two children', () => {
  const map = new TreeMap<number, number>()
  for (let i = 0; i < 100; i++) map.put(i, i)
  assert.throws(
    () => {
      for (const [k] of map) if (k === 50) map.put(1000, 0)
    },
    (e: unknown) => e instanceof ConcurrentModificationException,
  )
  assert.throws(
    () => {
      for (const [k] of map.tailMap(10)) if (k === 20) map.remove(5)
    },
    (e: unknown) => e instanceof ConcurrentModificationException,
  )
  for (const [k] of map) map.put(k, -k) // value updates are not structural
  const it = map.entryIterator()
  const seen: number[] = []
  while (it.hasNext()) {
    const { key } = it.next()
    seen.push(key)
    if (key % 3 !== 0) it.remove()
  }
  assert.is(seen.length, 100)
  assert.equal(
    [...map.keys()],
    seen.filter((k) => k % 3 === 0),
  )
})

test('custom comparator and natural order of mixed kinds', () => {
  const map = new TreeMap<string, number>(reverseOrder())
  map.put('a', 1)
  map.put('c', 3)
  map.put('b', 2)
  assert.equal([...map.keys()], ['c', 'b', 'a'])
  assert.is(map.floorKey('bb'), 'c')
  const mixed = new TreeMap<unknown, number>()
  mixed.put(1, 1)
  assert.throws(
    () => mixed.put('x', 2),
    (e: unknown) => e instanceof IllegalArgumentException,
  )
  assert.throws(
    () => new TreeMap().put({}, 1),
    (e: unknown) => e instanceof IllegalArgumentException,
  )
})

test('number keys: negative zero, fractions and NaN', () => {
  const map = new TreeMap<number, string>()
  for (const k of [3.5, -1, 0, 2, NaN, 1e9]) map.put(k, String(k))
  assert.equal([...map.keys()], [-1, 0, 2, 3.5, 1e9, NaN])
  assert.is(map.get(NaN), 'NaN')
  assert.is(map.floorKey(3), 2)
  assert.is(map.get(-0), '0')
})

test('Map defaults: compute, merge, getOrDefault, entrySet', () => {
  const map = new TreeMap<string, number>()
  for (const w of 'the cat saw the other cat'.split(' ')) map.merge(w, 1, (a, b) => a + b)
  assert.equal(
    [...map],
    [
      ['cat', 2],
      ['other', 1],
      ['saw', 1],
      ['the', 2],
    ],
  )
  assert.is(map.getOrDefault('dog', 0), 0)
  assert.equal(
    [...map.entrySet()].map((e) => e.key),
    ['cat', 'other', 'saw', 'the'],
  )
  assert.equal([...map.values()], [2, 1, 1, 2])
})

test.run()
