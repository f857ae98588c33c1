// An unbounded priority queue on a binary heap, as java.util.PriorityQueue: the head is the least
// element by the comparator (natural order by default). Sifting moves a hole instead of swapping,
// which halves the array writes. With natural order and elements that are all numbers (or all
// strings) the sifts compare with `<` directly instead of calling the comparator.
import { AbstractCollection } from './abstract-collection.ts'
import { isNaturalOrder, naturalOrder, type Comparator } from './comparator.ts'
import { valueEquals } from './equality.ts'
import { ConcurrentModificationException, IllegalArgumentException, IllegalStateException, NoSuchElementException } from './errors.ts'
import type { Iterator, Queue } from './interfaces.ts'

export class PriorityQueue<E> extends AbstractCollection<E> implements Queue<E> {
  #heap: E[] = []
  readonly #compare: Comparator<E>
  readonly #natural: boolean
  /** True while natural order applies and every element is a number (not NaN) or every one a string. */
  #primitive: boolean
  /** 'number', 'string' or '' until the first element arrives. */
  #primitiveType = ''
  /** Counts structural changes; iterators compare it to detect concurrent modification. */
  modCount = 0

  constructor(comparator?: Comparator<E>, elements?: Iterable<E>) {
    super()
    this.#compare = comparator ?? naturalOrder<E>()
    this.#natural = this.#primitive = isNaturalOrder(comparator)
    if (elements !== undefined) {
      for (const e of elements) {
        this.#check(e)
        this.#admit(e)
      }
      this.#heap = Array.from(elements)
      // Floyd's bottom-up heap construction: O(n) instead of n pushes.
      for (let i = (this.#heap.length >>> 1) - 1; i >= 0; i--) this.#siftDown(i, this.#heap[i]!)
    }
  }

  static from<E>(elements: Iterable<E>, comparator?: Comparator<E>): PriorityQueue<E> {
    return new PriorityQueue(comparator, elements)
  }

  comparator(): Comparator<E> {
    return this.#compare
  }

  size(): number {
    return this.#heap.length
  }

  isEmpty(): boolean {
    return this.#heap.length === 0
  }

  #check(element: E): void {
    // As Java refuses null: poll() and peek() use undefined to mean "empty".
    if (element === undefined) throw new IllegalArgumentException('PriorityQueue does not accept undefined elements')
  }

  /** Keeps `primitive` true only while every element so far shares one primitive type. */
  #admit(element: E): void {
    if (!this.#primitive) return
    const type = typeof element === 'number' ? (element === element ? 'number' : 'NaN') : typeof element
    if (this.#primitiveType === '') {
      if (type === 'number' || type === 'string') this.#primitiveType = type
      else this.#primitive = false
    } else if (type !== this.#primitiveType) this.#primitive = false
  }

  add(element: E): boolean {
    return this.offer(element)
  }

  offer(element: E): boolean {
    this.#check(element)
    if (this.#primitive) this.#admit(element)
    this.modCount++
    const heap = this.#heap
    heap.push(element)
    this.#siftUp(heap.length - 1, element)
    return true
  }

  peek(): E | undefined {
    return this.#heap[0]
  }

  element(): E {
    if (this.#heap.length === 0) throw new NoSuchElementException('queue is empty')
    return this.#heap[0]!
  }

  poll(): E | undefined {
    const heap = this.#heap
    if (heap.length === 0) return undefined
    this.modCount++
    const result = heap[0]
    const last = heap.pop()!
    if (heap.length > 0) this.#siftDown(0, last)
    return result
  }

  /** Removes and returns the head (Queue), or removes one occurrence of `element` (Collection). */
  remove(): E
  remove(element: E): boolean
  remove(...args: [] | [E]): E | boolean {
    if (args.length === 0) {
      if (this.#heap.length === 0) throw new NoSuchElementException('queue is empty')
      return this.poll()!
    }
    const index = this.#indexOf(args[0])
    if (index < 0) return false
    this.removeAt(index)
    return true
  }

  contains(element: E): boolean {
    return this.#indexOf(element) >= 0
  }

  #indexOf(element: E): number {
    const heap = this.#heap
    for (let i = 0; i < heap.length; i++) if (valueEquals(element, heap[i])) return i
    return -1
  }

  /**
   * Removes the element at heap index `index`. When the last element, moved into the gap, sifts up
   * past the gap it is returned, because an iterator positioned after `index` would otherwise miss it.
   * @internal
   */
  removeAt(index: number): E | undefined {
    const heap = this.#heap
    this.modCount++
    const last = heap.pop()!
    if (index === heap.length) return undefined
    this.#siftDown(index, last)
    if (heap[index] === last) {
      this.#siftUp(index, last)
      if (heap[index] !== last) return last
    }
    return undefined
  }

  /** @internal */
  elementAt(index: number): E {
    return this.#heap[index]!
  }

  clear(): void {
    this.#heap = []
    this.modCount++
    this.#primitive = this.#natural
    this.#primitiveType = ''
  }

  toArray(): E[] {
    return this.#heap.slice()
  }

  /** The elements in priority order, without changing the queue. */
  toSortedArray(): E[] {
    return this.#heap.slice().sort(this.#compare)
  }

  #siftUp(index: number, element: E): void {
    if (this.#primitive) return this.#siftUpPrimitive(index, element)
    const heap = this.#heap
    const compare = this.#compare
    while (index > 0) {
      const parentIndex = (index - 1) >>> 1
      const parent = heap[parentIndex]!
      if (compare(element, parent) >= 0) break
      heap[index] = parent
      index = parentIndex
    }
    heap[index] = element
  }

  /**
   * Places `element` in the hole at `index`, moving it down. Bottom-up variant (as Python's heapq):
   * walk the hole to a leaf along the smaller children - one comparison per level instead of two -
   * then sift the element up from there, which is usually a step or two because it came from the
   * bottom of the heap.
   */
  #siftDown(index: number, element: E): void {
    if (this.#primitive) return this.#siftDownPrimitive(index, element)
    const heap = this.#heap
    const compare = this.#compare
    const length = heap.length
    const start = index
    let childIndex = 2 * index + 1
    while (childIndex < length) {
      const right = childIndex + 1
      if (right < length && compare(heap[right]!, heap[childIndex]!) < 0) childIndex = right
      heap[index] = heap[childIndex]!
      index = childIndex
      childIndex = 2 * index + 1
    }
    while (index > start) {
      const parentIndex = (index - 1) >>> 1
      const parent = heap[parentIndex]!
      if (compare(element, parent) >= 0) break
      heap[index] = parent
      index = parentIndex
    }
    heap[index] = element
  }

  // The same loops with `<` on numbers or strings (cast: the check is `primitive`).
  #siftUpPrimitive(index: number, element: E): void {
    const heap = this.#heap as unknown as number[]
    const value = element as unknown as number
    while (index > 0) {
      const parentIndex = (index - 1) >>> 1
      const parent = heap[parentIndex]!
      if (value >= parent) break
      heap[index] = parent
      index = parentIndex
    }
    heap[index] = value
  }

  #siftDownPrimitive(index: number, element: E): void {
    const heap = this.#heap as unknown as number[]
    const value = element as unknown as number
    const length = heap.length
    const start = index
    let childIndex = 2 * index + 1
    while (childIndex < length) {
      const right = childIndex + 1
      if (right < length && heap[right]! < heap[childIndex]!) childIndex = right
      heap[index] = heap[childIndex]!
      index = childIndex
      childIndex = 2 * index + 1
    }
    while (index > start) {
      const parentIndex = (index - 1) >>> 1
      const parent = heap[parentIndex]!
      if (value >= parent) break
      heap[index] = parent
      index = parentIndex
    }
    heap[index] = value
  }

  /** Iterates in heap order (not priority order), as Java's PriorityQueue.iterator(). */
  iterator(): Iterator<E> {
    return new PriorityQueueIterator(this)
  }

  *[Symbol.iterator](): IterableIterator<E> {
    const expected = this.modCount
    const heap = this.#heap
    for (let i = 0; i < heap.length; i++) {
      yield heap[i]!
      if (this.modCount !== expected) throw new ConcurrentModificationException()
    }
  }
}

class PriorityQueueIterator<E> implements Iterator<E> {
  #cursor = 0
  #lastReturned = -1
  #lastReturnedElement: E | undefined = undefined
  /** Elements that removals moved from behind the cursor to before it; returned after the array. */
  #forgetMeNot: E[] = []
  #expected: number

  readonly #queue: PriorityQueue<E>

  constructor(queue: PriorityQueue<E>) {
    this.#queue = queue
    this.#expected = queue.modCount
  }

  hasNext(): boolean {
    return this.#cursor < this.#queue.size() || this.#forgetMeNot.length > 0
  }

  next(): E {
    if (this.#queue.modCount !== this.#expected) throw new ConcurrentModificationException()
    if (this.#cursor < this.#queue.size()) {
      this.#lastReturned = this.#cursor++
      return this.#queue.elementAt(this.#lastReturned)
    }
    if (this.#forgetMeNot.length > 0) {
      this.#lastReturned = -1
      this.#lastReturnedElement = this.#forgetMeNot.shift()!
      return this.#lastReturnedElement
    }
    throw new NoSuchElementException('iteration has no more elements')
  }

  remove(): void {
    if (this.#queue.modCount !== this.#expected) throw new ConcurrentModificationException()
    if (this.#lastReturned >= 0) {
      const moved = this.#queue.removeAt(this.#lastReturned)
      this.#lastReturned = -1
      if (moved === undefined) this.#cursor--
      else this.#forgetMeNot.push(moved)
    } else if (this.#lastReturnedElement !== undefined) {
      const element = this.#lastReturnedElement
      this.#lastReturnedElement = undefined
      // Remove this exact element (by identity), as Java's removeEq.
      for (let i = 0; i < this.#queue.size(); i++) {
        if (this.#queue.elementAt(i) === element) {
          this.#queue.removeAt(i)
          break
        }
      }
    } else {
      throw new IllegalStateException('remove() requires a preceding next()')
    }
    this.#expected = this.#queue.modCount
  }
}
