import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { ConcurrentModificationException, IndexOutOfBoundsException, LinkedList, NoSuchElementException } from '../src/index.ts'

test('works as a List', () => {
  const list = LinkedList.of('a', 'b', 'd')
  list.addAt(2, 'c')
  assert.equal(list.toArray(), ['a', 'b', 'c', 'd'])
  assert.is(list.get(3), 'd')
  assert.is(list.set(0, 'A'), 'a')
  assert.is(list.removeAt(1), 'b')
  assert.is(list.indexOf('d'), 2)
  assert.throws(
    () => list.get(3),
    (e: unknown) => e instanceof IndexOutOfBoundsException,
  )
  assert.ok(list.equals(LinkedList.of('A', 'c', 'd')))
  list.sort()
  assert.equal([...list], ['A', 'c', 'd'])
})

test('works as a Deque and a Queue', () => {
  const deque = new LinkedList<number>()
  deque.addFirst(2)
  deque.addLast(3)
  deque.push(1)
  assert.equal([...deque], [1, 2, 3])
  assert.is(deque.peekFirst(), 1)
  assert.is(deque.peekLast(), 3)
  assert.is(deque.pop(), 1)
  assert.is(deque.remove(), 2)
  assert.is(deque.pollLast(), 3)
  assert.is(deque.poll(), undefined)
  assert.is(deque.peek(), undefined)
  assert.throws(
    () => deque.remove(),
    (e: unknown) => e instanceof NoSuchElementException,
  )
  assert.throws(
    () => deque.getFirst(),
    (e: unknown) => e instanceof NoSuchElementException,
  )
  assert.throws(
    () => deque.element(),
    (e: unknown) => e instanceof NoSuchElementException,
  )
  assert.throws(
    () => deque.removeLast(),
    (e: unknown) => e instanceof NoSuchElementException,
  )
  deque.addAll([1, 2, 1, 3])
  assert.ok(deque.removeLastOccurrence(1))
  assert.equal(deque.toArray(), [1, 2, 3])
  assert.ok(deque.remove(2))
  const down = deque.descendingIterator()
  const seen: number[] = []
  while (down.hasNext()) seen.push(down.next())
  assert.equal(seen, [3, 1])
})

test('iterators are fail-fast and support remove', () => {
  const list = LinkedList.of(1, 2, 3, 4)
  assert.throws(
    () => {
      for (const x of list) if (x === 2) list.addLast(5)
    },
    (e: unknown) => e instanceof ConcurrentModificationException,
  )
  const it = list.iterator()
  while (it.hasNext()) if (it.next() % 2 === 1) it.remove()
  assert.equal(list.toArray(), [2, 4]) // 5 was appended before the iteration failed
  const down = list.descendingIterator()
  down.next()
  down.remove()
  assert.equal(list.toArray(), [2])
})

test('property: agrees with a native array used as a deque and a list', () => {
  const op = fc.oneof(
    fc.record({ op: fc.constantFrom('addFirst', 'addLast', 'addAt'), v: fc.integer({ min: 0, max: 5 }), i: fc.nat(12) }),
    fc.record({ op: fc.constantFrom('pollFirst', 'pollLast', 'removeAt', 'removeFirstOccurrence', 'get'), v: fc.integer({ min: 0, max: 5 }), i: fc.nat(12) }),
  )
  fc.assert(
    fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
      const list = new LinkedList<number>()
      const model: number[] = []
      for (const { op, v, i } of ops) {
        if (op === 'addFirst') {
          list.addFirst(v)
          model.unshift(v)
        } else if (op === 'addLast') {
          list.addLast(v)
          model.push(v)
        } else if (op === 'addAt') {
          if (i <= model.length) {
            list.addAt(i, v)
            model.splice(i, 0, v)
          } else assert.throws(() => list.addAt(i, v))
        } else if (op === 'pollFirst') assert.is(list.pollFirst(), model.shift())
        else if (op === 'pollLast') assert.is(list.pollLast(), model.pop())
        else if (op === 'removeAt') {
          if (i < model.length) assert.is(list.removeAt(i), model.splice(i, 1)[0])
          else assert.throws(() => list.removeAt(i))
        } else if (op === 'removeFirstOccurrence') {
          const at = model.indexOf(v)
          assert.is(list.removeFirstOccurrence(v), at >= 0)
          if (at >= 0) model.splice(at, 1)
        } else if (i < model.length) assert.is(list.get(i), model[i])
        assert.equal(list.toArray(), model)
        assert.equal([...list], model)
      }
    }),
    { numRuns: 200 },
  )
})

test.run()
