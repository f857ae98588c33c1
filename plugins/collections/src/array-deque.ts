// A double-ended queue on a power-of-two ring buffer, as java.util.ArrayDeque: O(1) amortised at
// both ends, index arithmetic with a mask instead of a modulo, and no per-element allocation.
import { AbstractCollection } from './abstract-collection.ts'
import { valueEquals } from './equality.ts'
import { ConcurrentModificationException, IllegalArgumentException, IllegalStateException, NoSuchElementException } from './errors.ts'
import type { Deque, Iterator } from './interfaces.ts'

const MIN_CAPACITY = 16

/**
 * A preallocated array. Its empty slots are holes, which read as undefined; allocating at full size
 * is several times faster than growing an array by push.
 */
function allocate<E>(length: number): (E | undefined)[] {
  return new Array<E | undefined>(length)
}

function rejectUndefined(element: unknown): void {
  // As Java's ArrayDeque refuses null: poll() and peek() use undefined to mean "empty".
  if (element === undefined) throw new IllegalArgumentException('ArrayDeque does not accept undefined elements')
}

export class ArrayDeque<E> extends AbstractCollection<E> implements Deque<E> {
  #elements: (E | undefined)[]
  #head = 0
  /** Index of the slot after the last element. */
  #tail = 0
  #mask: number
  #count = 0
  /** Counts structural changes; iterators compare it to detect concurrent modification. */
  modCount = 0

  /** `elements` seeds the deque; a number is an initial capacity hint. */
  constructor(elements?: Iterable<E> | number) {
    super()
    let capacity = MIN_CAPACITY
    if (typeof elements === 'number') {
      if (!(elements >= 0)) throw new IllegalArgumentException(`illegal capacity: ${elements}`)
      while (capacity < elements + 1) capacity *= 2
    }
    this.#elements = allocate(capacity)
    this.#mask = capacity - 1
    if (typeof elements === 'object') for (const e of elements) this.addLast(e)
  }

  static from<E>(elements: Iterable<E>): ArrayDeque<E> {
    return new ArrayDeque(elements)
  }

  static of<E>(...elements: E[]): ArrayDeque<E> {
    return new ArrayDeque(elements)
  }

  size(): number {
    return this.#count
  }

  isEmpty(): boolean {
    return this.#count === 0
  }

  /** Doubles the buffer, unwrapping it so the elements start at index 0. */
  #grow(): void {
    const old = this.#elements
    const oldCapacity = old.length
    const grown = allocate<E>(oldCapacity * 2)
    let j = 0
    for (let i = this.#head; i < oldCapacity; i++) grown[j++] = old[i]
    for (let i = 0; i < this.#head; i++) grown[j++] = old[i]
    this.#elements = grown
    this.#head = 0
    this.#tail = oldCapacity
    this.#mask = oldCapacity * 2 - 1
  }

  addLast(element: E): void {
    rejectUndefined(element)
    this.#elements[this.#tail] = element
    this.#tail = (this.#tail + 1) & this.#mask
    this.modCount++
    if (++this.#count === this.#elements.length) this.#grow()
  }

  addFirst(element: E): void {
    rejectUndefined(element)
    this.#head = (this.#head - 1) & this.#mask
    this.#elements[this.#head] = element
    this.modCount++
    if (++this.#count === this.#elements.length) this.#grow()
  }

  pollFirst(): E | undefined {
    if (this.#count === 0) return undefined
    const head = this.#head
    const element = this.#elements[head]
    this.#elements[head] = undefined // release the reference for the garbage collector
    this.#head = (head + 1) & this.#mask
    this.#count--
    this.modCount++
    return element
  }

  pollLast(): E | undefined {
    if (this.#count === 0) return undefined
    const tail = (this.#tail - 1) & this.#mask
    const element = this.#elements[tail]
    this.#elements[tail] = undefined
    this.#tail = tail
    this.#count--
    this.modCount++
    return element
  }

  peekFirst(): E | undefined {
    return this.#count === 0 ? undefined : this.#elements[this.#head]
  }

  peekLast(): E | undefined {
    return this.#count === 0 ? undefined : this.#elements[(this.#tail - 1) & this.#mask]
  }

  add(element: E): boolean {
    this.addLast(element)
    return true
  }
  offer(element: E): boolean {
    this.addLast(element)
    return true
  }
  offerFirst(element: E): boolean {
    this.addFirst(element)
    return true
  }
  offerLast(element: E): boolean {
    this.addLast(element)
    return true
  }
  push(element: E): void {
    this.addFirst(element)
  }
  pop(): E {
    return this.removeFirst()
  }
  poll(): E | undefined {
    return this.pollFirst()
  }
  peek(): E | undefined {
    return this.peekFirst()
  }
  element(): E {
    return this.getFirst()
  }
  getFirst(): E {
    if (this.#count === 0) throw new NoSuchElementException('deque is empty')
    return this.#elements[this.#head]!
  }
  getLast(): E {
    if (this.#count === 0) throw new NoSuchElementException('deque is empty')
    return this.#elements[(this.#tail - 1) & this.#mask]!
  }
  removeFirst(): E {
    if (this.#count === 0) throw new NoSuchElementException('deque is empty')
    return this.pollFirst()!
  }
  removeLast(): E {
    if (this.#count === 0) throw new NoSuchElementException('deque is empty')
    return this.pollLast()!
  }

  /** Removes and returns the head (Queue), or removes the first occurrence of `element` (Collection). */
  remove(): E
  remove(element: E): boolean
  remove(...args: [] | [E]): E | boolean {
    if (args.length === 0) return this.removeFirst()
    return this.removeFirstOccurrence(args[0])
  }

  /** The element at position `index` from the head (0 = first); undefined outside the deque. */
  at(index: number): E | undefined {
    if (!(index >= 0 && index < this.#count)) return undefined
    return this.#elements[(this.#head + index) & this.#mask]
  }

  removeFirstOccurrence(element: E): boolean {
    for (let i = 0; i < this.#count; i++) {
      if (valueEquals(element, this.#elements[(this.#head + i) & this.#mask])) {
        this.deleteAt(i)
        return true
      }
    }
    return false
  }

  removeLastOccurrence(element: E): boolean {
    for (let i = this.#count - 1; i >= 0; i--) {
      if (valueEquals(element, this.#elements[(this.#head + i) & this.#mask])) {
        this.deleteAt(i)
        return true
      }
    }
    return false
  }

  /**
   * Removes the element at `offset` from the head by shifting the shorter side.
   * Returns true when the tail side moved (elements after the offset shifted down one).
   * @internal
   */
  deleteAt(offset: number): boolean {
    const elements = this.#elements
    const mask = this.#mask
    const count = this.#count
    this.modCount++
    this.#count--
    if (offset < count - offset - 1) {
      for (let i = offset; i > 0; i--) elements[(this.#head + i) & mask] = elements[(this.#head + i - 1) & mask]
      elements[this.#head] = undefined
      this.#head = (this.#head + 1) & mask
      return false
    }
    for (let i = offset; i < count - 1; i++) elements[(this.#head + i) & mask] = elements[(this.#head + i + 1) & mask]
    this.#tail = (this.#tail - 1) & mask
    elements[this.#tail] = undefined
    return true
  }

  contains(element: E): boolean {
    for (let i = 0; i < this.#count; i++) if (valueEquals(element, this.#elements[(this.#head + i) & this.#mask])) return true
    return false
  }

  clear(): void {
    for (let i = 0; i < this.#count; i++) this.#elements[(this.#head + i) & this.#mask] = undefined
    this.#head = this.#tail = this.#count = 0
    this.modCount++
  }

  toArray(): E[] {
    const result: E[] = []
    for (let i = 0; i < this.#count; i++) result.push(this.#elements[(this.#head + i) & this.#mask]!)
    return result
  }

  iterator(): Iterator<E> {
    return new ArrayDequeIterator(this, false)
  }

  descendingIterator(): Iterator<E> {
    return new ArrayDequeIterator(this, true)
  }

  *[Symbol.iterator](): IterableIterator<E> {
    const expected = this.modCount
    for (let i = 0; i < this.#count; i++) {
      yield this.#elements[(this.#head + i) & this.#mask]!
      if (this.modCount !== expected) throw new ConcurrentModificationException()
    }
  }
}

class ArrayDequeIterator<E> implements Iterator<E> {
  /** Offset from the head of the next element to return. */
  #cursor: number
  #lastReturned = -1
  #expected: number

  readonly #deque: ArrayDeque<E>
  readonly #descending: boolean
  constructor(deque: ArrayDeque<E>, descending: boolean) {
    this.#deque = deque
    this.#descending = descending
    this.#cursor = descending ? deque.size() - 1 : 0
    this.#expected = deque.modCount
  }

  hasNext(): boolean {
    return this.#descending ? this.#cursor >= 0 : this.#cursor < this.#deque.size()
  }

  next(): E {
    if (this.#deque.modCount !== this.#expected) throw new ConcurrentModificationException()
    if (!this.hasNext()) throw new NoSuchElementException('iteration has no more elements')
    this.#lastReturned = this.#cursor
    this.#cursor += this.#descending ? -1 : 1
    return this.#deque.at(this.#lastReturned)!
  }

  remove(): void {
    if (this.#lastReturned < 0) throw new IllegalStateException('remove() requires a preceding next()')
    if (this.#deque.modCount !== this.#expected) throw new ConcurrentModificationException()
    this.#deque.deleteAt(this.#lastReturned)
    // Offsets after the removed one moved down by one; ascending iteration resumes at the same offset.
    if (!this.#descending) this.#cursor = this.#lastReturned
    this.#lastReturned = -1
    this.#expected = this.#deque.modCount
  }
}
