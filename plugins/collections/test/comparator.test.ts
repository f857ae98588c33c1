import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ComparatorChain, comparing, IllegalArgumentException, isNaturalOrder, naturalOrder, nullsFirst, nullsLast, reversed, reverseOrder, thenComparing } from '../src/index.ts'

interface Person {
  name: string
  age: number
}
const people: Person[] = [
  { name: 'Cy', age: 30 },
  { name: 'Al', age: 40 },
  { name: 'Bo', age: 30 },
]

test('naturalOrder covers numbers, strings, bigints, booleans, dates and compareTo', () => {
  const natural = naturalOrder<unknown>()
  assert.ok(natural(1, 2) < 0)
  assert.ok(natural('b', 'a') > 0)
  assert.ok(natural(2n, 10n) < 0)
  assert.ok(natural(false, true) < 0)
  assert.ok(natural(new Date(1), new Date(2)) < 0)
  assert.ok(natural(NaN, Infinity) > 0)
  assert.is(natural(NaN, NaN), 0)
  const version = (n: number) => ({ n, compareTo: (o: { n: number }) => n - o.n })
  assert.ok(natural(version(1), version(2)) < 0)
  assert.throws(
    () => natural(1, '1'),
    (e: unknown) => e instanceof IllegalArgumentException && /"1"/.test((e as Error).message),
  )
  assert.ok(isNaturalOrder(naturalOrder()))
  assert.ok(isNaturalOrder(undefined))
  assert.not.ok(isNaturalOrder(reverseOrder()))
})

test('comparing, thenComparing, reversed', () => {
  const byAgeThenName = thenComparing(
    comparing((p: Person) => p.age),
    (p) => p.name,
  )
  assert.equal(
    [...people].sort(byAgeThenName).map((p) => p.name),
    ['Bo', 'Cy', 'Al'],
  )
  assert.equal(
    [...people].sort(reversed(byAgeThenName)).map((p) => p.name),
    ['Al', 'Cy', 'Bo'],
  )
  const byName = comparing((p: Person) => p.name, reverseOrder())
  assert.equal(
    [...people].sort(byName).map((p) => p.name),
    ['Cy', 'Bo', 'Al'],
  )
  const chained = ComparatorChain.comparing((p: Person) => p.age)
    .thenComparing((a, b) => a.name.localeCompare(b.name))
    .reversed()
  assert.equal(
    [...people].sort(chained.compare).map((p) => p.name),
    ['Al', 'Cy', 'Bo'],
  )
  assert.is(reversed(reverseOrder<number>()), naturalOrder<number>())
})

test('nullsFirst and nullsLast', () => {
  // (Array.prototype.sort always moves undefined to the end without consulting the comparator.)
  const values = [3, null, 1, null, 2]
  assert.equal([...values].sort(nullsFirst<number | null>()), [null, null, 1, 2, 3])
  assert.equal([...values].sort(nullsLast<number | null>()), [1, 2, 3, null, null])
  assert.equal([...values].sort(nullsLast<number | null>(reverseOrder())), [3, 2, 1, null, null])
  assert.ok(nullsFirst<number | undefined>()(undefined, 1) < 0)
  assert.ok(nullsLast<number | undefined>()(undefined, 1) > 0)
})

test.run()
