import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ArrayList, Collections, HashMap, LinkedList, NoSuchElementException, TreeMap, TreeSet, UnsupportedOperationException, reverseOrder } from '../src/index.ts'

const unsupported = (e: unknown) => e instanceof UnsupportedOperationException

test('sort is stable; binarySearch returns the index or -(insertion point) - 1', () => {
  const list = ArrayList.of('bb', 'a', 'cc', 'd')
  Collections.sort(list, (x, y) => x.length - y.length)
  assert.equal(list.toArray(), ['a', 'd', 'bb', 'cc'])
  const numbers = ArrayList.of(10, 20, 30, 40)
  assert.is(Collections.binarySearch(numbers, 30), 2)
  assert.is(Collections.binarySearch(numbers, 25), -3)
  assert.is(Collections.binarySearch(numbers, 5), -1)
  assert.is(Collections.binarySearch([1, 3, 5], 6), -4)
  assert.is(Collections.binarySearch([5, 3, 1], 3, reverseOrder()), 1)
})

test('reverse, swap, min, max, frequency', () => {
  const list = LinkedList.of(1, 2, 3, 2)
  Collections.reverse(list)
  assert.equal(list.toArray(), [2, 3, 2, 1])
  Collections.swap(list, 0, 3)
  assert.equal(list.toArray(), [1, 3, 2, 2])
  assert.is(Collections.min(list), 1)
  assert.is(Collections.max(list), 3)
  assert.is(Collections.max(list, reverseOrder()), 1)
  assert.is(Collections.frequency(list, 2), 2)
  assert.throws(
    () => Collections.min([]),
    (e: unknown) => e instanceof NoSuchElementException,
  )
})

test('seeded shuffle is reproducible and a permutation', () => {
  const a = ArrayList.from(Array.from({ length: 50 }, (_, i) => i))
  const b = ArrayList.from(Array.from({ length: 50 }, (_, i) => i))
  Collections.shuffle(a, 1234)
  Collections.shuffle(b, 1234)
  assert.equal(a.toArray(), b.toArray())
  assert.not.equal(
    a.toArray(),
    Array.from({ length: 50 }, (_, i) => i),
  )
  assert.equal(
    [...a].sort((x, y) => x - y),
    Array.from({ length: 50 }, (_, i) => i),
  )
  Collections.shuffle(b, 99)
  assert.not.equal(a.toArray(), b.toArray())
})

test('unmodifiable views read through and refuse writes, including nested views and iterators', () => {
  const list = ArrayList.of(1, 2)
  const view = Collections.unmodifiableList(list)
  list.add(3)
  assert.equal([...view], [1, 2, 3])
  assert.is(view.get(2), 3)
  assert.throws(() => view.add(4), unsupported)
  assert.throws(() => view.set(0, 4), unsupported)
  assert.throws(() => view.sort(), unsupported)
  const it = view.iterator()
  it.next()
  assert.throws(() => it.remove(), unsupported)

  const map = TreeMap.from([
    [1, 'a'],
    [2, 'b'],
  ])
  const readOnly = Collections.unmodifiableNavigableMap(map)
  assert.is(readOnly.floorKey(5), 2)
  assert.throws(() => readOnly.put(3, 'c'), unsupported)
  assert.throws(() => readOnly.pollFirstEntry(), unsupported)
  assert.throws(() => readOnly.headMap(2).clear(), unsupported)
  assert.throws(() => readOnly.keySet().remove(1), unsupported)
  assert.throws(() => Collections.unmodifiableMap(new HashMap([[1, 1]])).merge(1, 1, (a, b) => a + b), unsupported)
  assert.throws(() => Collections.unmodifiableSet(TreeSet.of(1)).add(2), unsupported)
  assert.is(map.size(), 2)
})

test.run()
