import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { ArrayDeque, ConcurrentModificationException, IllegalArgumentException, IllegalStateException, NoSuchElementException } from '../src/index.ts'

test('queue and stack operations at both ends', () => {
  const deque = new ArrayDeque<number>()
  for (let i = 0; i < 100; i++) deque.addLast(i)
  for (let i = 1; i <= 50; i++) deque.addFirst(-i)
  assert.is(deque.size(), 150)
  assert.is(deque.getFirst(), -50)
  assert.is(deque.getLast(), 99)
  assert.is(deque.pollFirst(), -50)
  assert.is(deque.pollLast(), 99)
  deque.push(1000)
  assert.is(deque.pop(), 1000)
  assert.is(deque.peek(), -49)
  deque.clear()
  assert.ok(deque.isEmpty())
  assert.is(deque.poll(), undefined)
  assert.is(deque.peekLast(), undefined)
  for (const fn of [() => deque.pop(), () => deque.removeFirst(), () => deque.removeLast(), () => deque.getLast(), () => deque.element(), () => deque.remove()])
    assert.throws(fn, (e: unknown) => e instanceof NoSuchElementException)
})

test('refuses undefined, as Java refuses null', () => {
  const deque = new ArrayDeque<number | undefined>()
  assert.throws(
    () => deque.add(undefined),
    (e: unknown) => e instanceof IllegalArgumentException,
  )
  assert.throws(
    () => new ArrayDeque(-1),
    (e: unknown) => e instanceof IllegalArgumentException,
  )
})

test('grows across the wrap point and keeps order', () => {
  const deque = new ArrayDeque<number>(4)
  const model: number[] = []
  for (let i = 0; i < 1000; i++) {
    if (i % 3 === 0) {
      deque.addFirst(i)
      model.unshift(i)
    } else {
      deque.addLast(i)
      model.push(i)
    }
    if (i % 7 === 0) assert.is(deque.pollFirst(), model.shift())
  }
  assert.equal([...deque], model)
  assert.equal(deque.toArray(), model)
})

test('iterators: fail-fast, remove, descending', () => {
  const deque = ArrayDeque.of(1, 2, 3, 4, 5, 6)
  assert.throws(
    () => {
      for (const x of deque) if (x === 3) deque.addLast(7)
    },
    (e: unknown) => e instanceof ConcurrentModificationException,
  )
  const it = deque.iterator()
  assert.throws(
    () => it.remove(),
    (e: unknown) => e instanceof IllegalStateException,
  )
  while (it.hasNext()) if (it.next() % 2 === 0) it.remove()
  assert.equal(deque.toArray(), [1, 3, 5, 7])
  const down = deque.descendingIterator()
  const seen: number[] = []
  while (down.hasNext()) {
    const x = down.next()
    seen.push(x)
    if (x === 3) down.remove()
  }
  assert.equal(seen, [7, 5, 3, 1])
  assert.equal(deque.toArray(), [1, 5, 7])
  assert.ok(deque.remove(5))
  assert.ok(deque.contains(7))
})

test('property: agrees with a native array', () => {
  const op = fc.record({
    op: fc.constantFrom('addFirst', 'addLast', 'pollFirst', 'pollLast', 'removeFirstOccurrence', 'removeLastOccurrence', 'iterRemove', 'descIterRemove'),
    v: fc.integer({ min: 0, max: 6 }),
  })
  fc.assert(
    fc.property(fc.array(op, { maxLength: 120 }), (ops) => {
      const deque = new ArrayDeque<number>()
      let model: number[] = []
      for (const { op, v } of ops) {
        switch (op) {
          case 'addFirst':
            deque.addFirst(v)
            model.unshift(v)
            break
          case 'addLast':
            deque.addLast(v)
            model.push(v)
            break
          case 'pollFirst':
            assert.is(deque.pollFirst(), model.shift())
            break
          case 'pollLast':
            assert.is(deque.pollLast(), model.pop())
            break
          case 'removeFirstOccurrence': {
            const i = model.indexOf(v)
            assert.is(deque.removeFirstOccurrence(v), i >= 0)
            if (i >= 0) model.splice(i, 1)
            break
          }
          case 'removeLastOccurrence': {
            const i = model.lastIndexOf(v)
            assert.is(deque.removeLastOccurrence(v), i >= 0)
            if (i >= 0) model.splice(i, 1)
            break
          }
          case 'iterRemove':
          case 'descIterRemove': {
            const it = op === 'iterRemove' ? deque.iterator() : deque.descendingIterator()
            const seen: number[] = []
            while (it.hasNext()) {
              const x = it.next()
              seen.push(x)
              if (x === v) it.remove()
            }
            assert.equal(seen, op === 'iterRemove' ? model : [...model].reverse())
            model = model.filter((x) => x !== v)
            break
          }
        }
        assert.equal(deque.toArray(), model)
        assert.is(deque.size(), model.length)
        assert.is(deque.peekFirst(), model[0])
        assert.is(deque.peekLast(), model.at(-1))
      }
    }),
    { numRuns: 300 },
  )
})

test.run()
