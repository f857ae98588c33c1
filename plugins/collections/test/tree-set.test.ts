import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { IllegalArgumentException, NoSuchElementException, TreeSet, comparing } from '../src/index.ts'

test('sorted, navigable, convertible', () => {
  const set = TreeSet.from([5, 1, 3, 3, 9])
  assert.equal([...set], [1, 3, 5, 9])
  assert.is(set.first(), 1)
  assert.is(set.last(), 9)
  assert.is(set.floor(4), 3)
  assert.is(set.ceiling(4), 5)
  assert.is(set.higher(5), 9)
  assert.is(set.lower(1), undefined)
  assert.equal(set.toSet(), new Set([1, 3, 5, 9]))
  assert.equal(set.toArray(), [1, 3, 5, 9])
  assert.is(set.pollFirst(), 1)
  assert.is(set.pollLast(), 9)
  assert.throws(
    () => new TreeSet().first(),
    (e: unknown) => e instanceof NoSuchElementException,
  )
})

test('headSet, tailSet, subSet and descendingSet are live', () => {
  const set = TreeSet.of(1, 2, 3, 4, 5, 6)
  const mid = set.subSet(2, 5)
  assert.equal([...mid], [2, 3, 4])
  mid.add(4)
  assert.throws(
    () => mid.add(9),
    (e: unknown) => e instanceof IllegalArgumentException,
  )
  set.remove(3)
  assert.equal([...mid], [2, 4])
  assert.equal([...set.headSet(3, true)], [1, 2])
  assert.equal([...set.tailSet(4, false)], [5, 6])
  const down = set.descendingSet()
  assert.equal([...down], [6, 5, 4, 2, 1])
  assert.equal([...down.headSet(4)], [6, 5])
  assert.is(down.first(), 6)
  assert.is(down.ceiling(3), 2)
  down.pollFirst()
  assert.equal([...set], [1, 2, 4, 5])
  const it = set.descendingIterator()
  it.next()
  it.remove()
  assert.equal([...set], [1, 2, 4])
})

test('comparator defines equality', () => {
  const byLength = new TreeSet<string>(comparing((s: string) => s.length))
  byLength.add('aa')
  assert.not.ok(byLength.add('bb'))
  assert.ok(byLength.contains('zz'))
  assert.ok(TreeSet.of(1, 2).equals(TreeSet.of(2, 1)))
})

test('property: agrees with a sorted unique array, including descending subsets', () => {
  const v = fc.integer({ min: 0, max: 30 })
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.boolean(), v), { maxLength: 60 }), v, v, (ops, a, b) => {
      const set = new TreeSet<number>()
      const model = new Set<number>()
      for (const [add, x] of ops) {
        assert.is(add ? set.add(x) : set.remove(x), add ? !model.has(x) : model.has(x))
        if (add) model.add(x)
        else model.delete(x)
      }
      const sorted = [...model].sort((p, q) => p - q)
      assert.equal([...set], sorted)
      const [lo, hi] = a <= b ? [a, b] : [b, a]
      assert.equal(
        [...set.subSet(lo, true, hi, false)],
        sorted.filter((x) => x >= lo && x < hi),
      )
      assert.equal([...set.descendingSet().subSet(hi, true, lo, true)], sorted.filter((x) => x >= lo && x <= hi).reverse())
      assert.equal(
        set.descendingSet().floor(a),
        sorted.find((x) => x >= a),
      )
    }),
    { numRuns: 300 },
  )
})

test.run()
