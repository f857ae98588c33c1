import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { ArrayList, ConcurrentModificationException, IllegalStateException, IndexOutOfBoundsException, NoSuchElementException, reverseOrder } from '../src/index.ts'

test('add, get, set, addAt, removeAt follow java.util.ArrayList', () => {
  const list = new ArrayList<string>()
  assert.ok(list.isEmpty())
  list.add('a')
  list.add('c')
  list.addAt(1, 'b')
  list.addAt(3, 'd')
  assert.equal(list.toArray(), ['a', 'b', 'c', 'd'])
  assert.is(list.set(0, 'A'), 'a')
  assert.is(list.removeAt(1), 'b')
  assert.ok(list.remove('d'))
  assert.not.ok(list.remove('zzz'))
  assert.equal([...list], ['A', 'c'])
  assert.is(list.size(), 2)
  assert.is(list.indexOf('c'), 1)
  assert.is(list.lastIndexOf('x'), -1)
})

test('bad indexes throw IndexOutOfBoundsException naming the index and length', () => {
  const list = ArrayList.of(1, 2, 3)
  for (const bad of [-1, 3, 1.5, NaN]) {
    assert.throws(
      () => list.get(bad),
      (e: unknown) => e instanceof IndexOutOfBoundsException,
    )
  }
  try {
    list.get(7)
  } catch (error) {
    assert.instance(error, IndexOutOfBoundsException)
    assert.is((error as Error).name, 'IndexOutOfBoundsException')
    assert.is((error as Error).message, 'index 7 out of bounds for length 3')
  }
  assert.throws(
    () => list.addAt(4, 0),
    (e: unknown) => e instanceof IndexOutOfBoundsException,
  )
  assert.throws(
    () => list.removeAt(3),
    (e: unknown) => e instanceof IndexOutOfBoundsException,
  )
  assert.throws(
    () => list.set(-1, 0),
    (e: unknown) => e instanceof IndexOutOfBoundsException,
  )
})

test('iterators are fail-fast', () => {
  const list = ArrayList.of(1, 2, 3)
  assert.throws(
    () => {
      for (const x of list) if (x === 1) list.add(4)
    },
    (e: unknown) => e instanceof ConcurrentModificationException,
  )
  const it = list.iterator()
  it.next()
  list.removeAt(0)
  assert.throws(
    () => it.next(),
    (e: unknown) => e instanceof ConcurrentModificationException,
  )
  // set() is not a structural change
  for (const _ of list) list.set(0, 9)
  assert.throws(
    () => list.forEach(() => list.add(1)),
    (e: unknown) => e instanceof ConcurrentModificationException,
  )
})

test('Iterator.remove removes the last returned element; misuse throws IllegalStateException', () => {
  const list = ArrayList.of(1, 2, 3, 4, 5)
  const it = list.iterator()
  assert.throws(
    () => it.remove(),
    (e: unknown) => e instanceof IllegalStateException,
  )
  while (it.hasNext()) if (it.next() % 2 === 0) it.remove()
  assert.equal(list.toArray(), [1, 3, 5])
  assert.throws(
    () => it.next(),
    (e: unknown) => e instanceof NoSuchElementException,
  )
  const again = list.iterator()
  again.next()
  again.remove()
  assert.throws(
    () => again.remove(),
    (e: unknown) => e instanceof IllegalStateException,
  )
})

test('equals and hashCode follow List semantics; elements with equals() are compared by value', () => {
  class Point {
    constructor(readonly x: number) {}
    equals(o: unknown) {
      return o instanceof Point && o.x === this.x
    }
    hashCode() {
      return this.x
    }
  }
  const a = ArrayList.of(new Point(1), new Point(2))
  const b = ArrayList.of(new Point(1), new Point(2))
  assert.ok(a.equals(b))
  assert.is(a.hashCode(), b.hashCode())
  assert.ok(a.contains(new Point(2)))
  assert.is(a.indexOf(new Point(2)), 1)
  assert.not.ok(a.equals(ArrayList.of(new Point(1))))
})

test('sort is stable, bulk operations, spread and conversions', () => {
  const list = ArrayList.from([
    { k: 2, i: 0 },
    { k: 1, i: 1 },
    { k: 2, i: 2 },
    { k: 1, i: 3 },
  ])
  list.sort((a, b) => a.k - b.k)
  assert.equal(
    list.toArray().map((e) => e.i),
    [1, 3, 0, 2],
  )
  const numbers = ArrayList.of(3, 1, 2)
  numbers.sort()
  assert.equal([...numbers], [1, 2, 3])
  numbers.sort(reverseOrder())
  assert.equal(Array.from(numbers), [3, 2, 1])
  assert.ok(numbers.removeIf((x) => x > 2))
  assert.ok(numbers.addAll([7, 8]))
  assert.ok(numbers.retainAll([1, 7, 8]))
  assert.equal(numbers.toArray(), [1, 7, 8])
  assert.ok(numbers.removeAll(ArrayList.of(7)))
  numbers.replaceAll((x) => x * 10)
  assert.equal(numbers.toArray(), [10, 80])
  assert.ok(numbers.containsAll([10]))
  assert.is(numbers.toString(), '[10, 80]')
  assert.equal(numbers.slice(1).toArray(), [80])
  numbers.clear()
  assert.is(numbers.size(), 0)
})

test('property: random operations agree with a native array', () => {
  const op = fc.oneof(
    fc.record({ op: fc.constant('add' as const), v: fc.integer({ min: 0, max: 9 }) }),
    fc.record({ op: fc.constant('addAt' as const), i: fc.nat(20), v: fc.integer({ min: 0, max: 9 }) }),
    fc.record({ op: fc.constant('removeAt' as const), i: fc.nat(20) }),
    fc.record({ op: fc.constant('remove' as const), v: fc.integer({ min: 0, max: 9 }) }),
    fc.record({ op: fc.constant('set' as const), i: fc.nat(20), v: fc.integer({ min: 0, max: 9 }) }),
    fc.record({ op: fc.constant('iterRemove' as const), v: fc.integer({ min: 0, max: 9 }) }),
  )
  fc.assert(
    fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
      const list = new ArrayList<number>()
      const model: number[] = []
      for (const o of ops) {
        switch (o.op) {
          case 'add':
            list.add(o.v)
            model.push(o.v)
            break
          case 'addAt':
            if (o.i <= model.length) {
              list.addAt(o.i, o.v)
              model.splice(o.i, 0, o.v)
            } else assert.throws(() => list.addAt(o.i, o.v))
            break
          case 'removeAt':
            if (o.i < model.length) assert.is(list.removeAt(o.i), model.splice(o.i, 1)[0])
            else assert.throws(() => list.removeAt(o.i))
            break
          case 'remove': {
            const i = model.indexOf(o.v)
            assert.is(list.remove(o.v), i >= 0)
            if (i >= 0) model.splice(i, 1)
            break
          }
          case 'set':
            if (o.i < model.length) {
              assert.is(list.set(o.i, o.v), model[o.i])
              model[o.i] = o.v
            } else assert.throws(() => list.set(o.i, o.v))
            break
          case 'iterRemove': {
            const it = list.iterator()
            while (it.hasNext()) if (it.next() === o.v) it.remove()
            model.splice(0, model.length, ...model.filter((x) => x !== o.v))
            break
          }
        }
        assert.equal(list.toArray(), model)
        assert.is(list.size(), model.length)
      }
    }),
    { numRuns: 200 },
  )
})

test.run()
