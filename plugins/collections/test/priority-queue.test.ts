import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { comparing, ConcurrentModificationException, IllegalArgumentException, NoSuchElementException, PriorityQueue, reverseOrder, thenComparing } from '../src/index.ts'

test('polls in natural order by default', () => {
  const queue = PriorityQueue.from([5, 1, 4, 1, 3])
  const out: number[] = []
  while (!queue.isEmpty()) out.push(queue.poll()!)
  assert.equal(out, [1, 1, 3, 4, 5])
  assert.is(queue.poll(), undefined)
  assert.is(queue.peek(), undefined)
  assert.throws(
    () => queue.element(),
    (e: unknown) => e instanceof NoSuchElementException,
  )
  assert.throws(
    () => queue.remove(),
    (e: unknown) => e instanceof NoSuchElementException,
  )
  assert.throws(
    () => queue.add(undefined as unknown as number),
    (e: unknown) => e instanceof IllegalArgumentException,
  )
})

test('uses the supplied comparator', () => {
  const tasks = new PriorityQueue(
    thenComparing(
      comparing((t: { p: number; n: string }) => t.p),
      (t) => t.n,
    ),
  )
  tasks.addAll([
    { p: 2, n: 'b' },
    { p: 1, n: 'z' },
    { p: 2, n: 'a' },
  ])
  assert.equal(
    tasks.toSortedArray().map((t) => t.n),
    ['z', 'a', 'b'],
  )
  assert.is(tasks.poll()!.n, 'z')
  const max = new PriorityQueue<number>(reverseOrder())
  max.addAll([1, 9, 5])
  assert.is(max.remove(), 9)
})

test('iterator is fail-fast and its remove keeps the heap valid', () => {
  const queue = PriorityQueue.from([7, 3, 9, 1, 5, 8, 2])
  assert.throws(
    () => {
      for (const _ of queue) queue.add(0)
    },
    (e: unknown) => e instanceof ConcurrentModificationException,
  )
  const it = queue.iterator()
  const seen: number[] = []
  while (it.hasNext()) {
    const x = it.next()
    seen.push(x)
    if (x % 2 === 1) it.remove()
  }
  assert.equal([...seen].sort(), [0, 1, 2, 3, 5, 7, 8, 9])
  const out: number[] = []
  while (!queue.isEmpty()) out.push(queue.poll()!)
  assert.equal(out, [0, 2, 8])
})

test('property: agrees with a sorted array', () => {
  const op = fc.oneof(
    fc.record({ op: fc.constant('offer' as const), v: fc.integer({ min: 0, max: 30 }) }),
    fc.record({ op: fc.constant('poll' as const), v: fc.constant(0) }),
    fc.record({ op: fc.constant('remove' as const), v: fc.integer({ min: 0, max: 30 }) }),
    fc.record({ op: fc.constant('iterRemove' as const), v: fc.integer({ min: 2, max: 4 }) }),
  )
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 30 }), { maxLength: 20 }), fc.array(op, { maxLength: 100 }), (initial, ops) => {
      const queue = PriorityQueue.from(initial)
      let model = [...initial].sort((a, b) => a - b)
      for (const { op, v } of ops) {
        if (op === 'offer') {
          queue.offer(v)
          model.push(v)
          model.sort((a, b) => a - b)
        } else if (op === 'poll') assert.is(queue.poll(), model.shift())
        else if (op === 'remove') {
          const i = model.indexOf(v)
          assert.is(queue.remove(v), i >= 0)
          if (i >= 0) model.splice(i, 1)
        } else {
          const it = queue.iterator()
          const seen: number[] = []
          while (it.hasNext()) {
            const x = it.next()
            seen.push(x)
            if (x % v === 0) it.remove()
          }
          assert.equal(
            seen.sort((a, b) => a - b),
            model,
            'iterator visits every element once',
          )
          model = model.filter((x) => x % v !== 0)
        }
        assert.is(queue.size(), model.length)
        assert.is(queue.peek(), model[0])
        assert.equal(queue.toSortedArray(), model)
      }
    }),
    { numRuns: 300 },
  )
})

test.run()
