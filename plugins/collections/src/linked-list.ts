// A doubly linked list that is both a List and a Deque, as java.util.LinkedList.
import { AbstractCollection } from './abstract-collection.ts'
import { naturalOrder, type Comparator } from './comparator.ts'
import { combineHashes, hashOf, valueEquals } from './equality.ts'
import { ConcurrentModificationException, IllegalStateException, IndexOutOfBoundsException, NoSuchElementException } from './errors.ts'
import type { Deque, Iterator, List } from './interfaces.ts'
import { listEquals } from './array-list.ts'

class ListNode<E> {
  constructor(
    public item: E,
    public prev: ListNode<E> | null,
    public next: ListNode<E> | null,
  ) {}
}

export class LinkedList<E> extends AbstractCollection<E> implements List<E>, Deque<E> {
  #head: ListNode<E> | null = null
  #tail: ListNode<E> | null = null
  #count = 0
  /** Counts structural changes; iterators compare it to detect concurrent modification. */
  modCount = 0

  constructor(elements?: Iterable<E>) {
    super()
    if (elements !== undefined) for (const e of elements) this.#linkLast(e)
  }

  static from<E>(elements: Iterable<E>): LinkedList<E> {
    return new LinkedList(elements)
  }

  static of<E>(...elements: E[]): LinkedList<E> {
    return new LinkedList(elements)
  }

  size(): number {
    return this.#count
  }

  // ---- linking primitives ----

  #linkFirst(item: E): void {
    const node = new ListNode(item, null, this.#head)
    if (this.#head === null) this.#tail = node
    else this.#head.prev = node
    this.#head = node
    this.#count++
    this.modCount++
  }

  #linkLast(item: E): void {
    const node = new ListNode(item, this.#tail, null)
    if (this.#tail === null) this.#head = node
    else this.#tail.next = node
    this.#tail = node
    this.#count++
    this.modCount++
  }

  #linkBefore(item: E, successor: ListNode<E>): void {
    const prev = successor.prev
    const node = new ListNode(item, prev, successor)
    successor.prev = node
    if (prev === null) this.#head = node
    else prev.next = node
    this.#count++
    this.modCount++
  }

  /** @internal */
  unlink(node: ListNode<E>): E {
    const { prev, next } = node
    if (prev === null) this.#head = next
    else prev.next = next
    if (next === null) this.#tail = prev
    else next.prev = prev
    node.prev = node.next = null
    this.#count--
    this.modCount++
    return node.item
  }

  #nodeAt(index: number): ListNode<E> {
    // Walk from whichever end is nearer.
    if (index < this.#count >> 1) {
      let node = this.#head!
      for (let i = 0; i < index; i++) node = node.next!
      return node
    }
    let node = this.#tail!
    for (let i = this.#count - 1; i > index; i--) node = node.prev!
    return node
  }

  #checkIndex(index: number): void {
    if (!(index >= 0 && index < this.#count && Number.isInteger(index))) throw new IndexOutOfBoundsException(index, this.#count)
  }

  // ---- List ----

  get(index: number): E {
    this.#checkIndex(index)
    return this.#nodeAt(index).item
  }

  set(index: number, element: E): E {
    this.#checkIndex(index)
    const node = this.#nodeAt(index)
    const previous = node.item
    node.item = element
    return previous
  }

  add(element: E): boolean {
    this.#linkLast(element)
    return true
  }

  addAt(index: number, element: E): void {
    if (!(index >= 0 && index <= this.#count && Number.isInteger(index))) throw new IndexOutOfBoundsException(index, this.#count)
    if (index === this.#count) this.#linkLast(element)
    else this.#linkBefore(element, this.#nodeAt(index))
  }

  removeAt(index: number): E {
    this.#checkIndex(index)
    return this.unlink(this.#nodeAt(index))
  }

  /** Removes and returns the head (Queue), or removes the first occurrence of `element` (Collection). */
  remove(): E
  remove(element: E): boolean
  remove(...args: [] | [E]): E | boolean {
    if (args.length === 0) return this.removeFirst()
    return this.removeFirstOccurrence(args[0])
  }

  clear(): void {
    this.#head = this.#tail = null
    this.#count = 0
    this.modCount++
  }

  indexOf(element: E): number {
    let i = 0
    for (let node = this.#head; node !== null; node = node.next, i++) if (valueEquals(element, node.item)) return i
    return -1
  }

  lastIndexOf(element: E): number {
    let i = this.#count - 1
    for (let node = this.#tail; node !== null; node = node.prev, i--) if (valueEquals(element, node.item)) return i
    return -1
  }

  contains(element: E): boolean {
    return this.indexOf(element) >= 0
  }

  sort(comparator: Comparator<E> = naturalOrder()): void {
    const sorted = this.toArray().sort(comparator)
    let i = 0
    for (let node = this.#head; node !== null; node = node.next) node.item = sorted[i++]!
    this.modCount++
  }

  replaceAll(operator: (element: E) => E): void {
    const expected = this.modCount
    for (let node = this.#head; node !== null; node = node.next) {
      node.item = operator(node.item)
      if (this.modCount !== expected) throw new ConcurrentModificationException()
    }
  }

  toArray(): E[] {
    const result: E[] = []
    for (let node = this.#head; node !== null; node = node.next) result.push(node.item)
    return result
  }

  equals(other: unknown): boolean {
    return listEquals(this, other)
  }

  hashCode(): number {
    return combineHashes(this.toArray().map(hashOf))
  }

  // ---- Queue and Deque ----

  offer(element: E): boolean {
    this.#linkLast(element)
    return true
  }
  offerFirst(element: E): boolean {
    this.#linkFirst(element)
    return true
  }
  offerLast(element: E): boolean {
    this.#linkLast(element)
    return true
  }
  addFirst(element: E): void {
    this.#linkFirst(element)
  }
  addLast(element: E): void {
    this.#linkLast(element)
  }
  push(element: E): void {
    this.#linkFirst(element)
  }
  pop(): E {
    return this.removeFirst()
  }
  poll(): E | undefined {
    return this.#head === null ? undefined : this.unlink(this.#head)
  }
  pollFirst(): E | undefined {
    return this.#head === null ? undefined : this.unlink(this.#head)
  }
  pollLast(): E | undefined {
    return this.#tail === null ? undefined : this.unlink(this.#tail)
  }
  peek(): E | undefined {
    return this.#head?.item
  }
  peekFirst(): E | undefined {
    return this.#head?.item
  }
  peekLast(): E | undefined {
    return this.#tail?.item
  }
  element(): E {
    return this.getFirst()
  }
  getFirst(): E {
    if (this.#head === null) throw new NoSuchElementException('list is empty')
    return this.#head.item
  }
  getLast(): E {
    if (this.#tail === null) throw new NoSuchElementException('list is empty')
    return this.#tail.item
  }
  removeFirst(): E {
    if (this.#head === null) throw new NoSuchElementException('list is empty')
    return this.unlink(this.#head)
  }
  removeLast(): E {
    if (this.#tail === null) throw new NoSuchElementException('list is empty')
    return this.unlink(this.#tail)
  }
  removeFirstOccurrence(element: E): boolean {
    for (let node = this.#head; node !== null; node = node.next) {
      if (valueEquals(element, node.item)) {
        this.unlink(node)
        return true
      }
    }
    return false
  }
  removeLastOccurrence(element: E): boolean {
    for (let node = this.#tail; node !== null; node = node.prev) {
      if (valueEquals(element, node.item)) {
        this.unlink(node)
        return true
      }
    }
    return false
  }

  // ---- iteration ----

  /** @internal */
  firstNode(): ListNode<E> | null {
    return this.#head
  }
  /** @internal */
  lastNode(): ListNode<E> | null {
    return this.#tail
  }

  iterator(): Iterator<E> {
    return new LinkedListIterator(this, false)
  }

  descendingIterator(): Iterator<E> {
    return new LinkedListIterator(this, true)
  }

  *[Symbol.iterator](): IterableIterator<E> {
    const expected = this.modCount
    for (let node = this.#head; node !== null; node = node.next) {
      yield node.item
      if (this.modCount !== expected) throw new ConcurrentModificationException()
    }
  }
}

class LinkedListIterator<E> implements Iterator<E> {
  #nextNode: ListNode<E> | null
  #lastReturned: ListNode<E> | null = null
  #expected: number

  readonly #list: LinkedList<E>
  readonly #descending: boolean
  constructor(list: LinkedList<E>, descending: boolean) {
    this.#list = list
    this.#descending = descending
    this.#nextNode = descending ? list.lastNode() : list.firstNode()
    this.#expected = list.modCount
  }

  hasNext(): boolean {
    return this.#nextNode !== null
  }

  next(): E {
    if (this.#list.modCount !== this.#expected) throw new ConcurrentModificationException()
    const node = this.#nextNode
    if (node === null) throw new NoSuchElementException('iteration has no more elements')
    this.#lastReturned = node
    this.#nextNode = this.#descending ? node.prev : node.next
    return node.item
  }

  remove(): void {
    if (this.#lastReturned === null) throw new IllegalStateException('remove() requires a preceding next()')
    if (this.#list.modCount !== this.#expected) throw new ConcurrentModificationException()
    this.#list.unlink(this.#lastReturned)
    this.#lastReturned = null
    this.#expected = this.#list.modCount
  }
}
