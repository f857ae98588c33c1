// A resizable array list over a native array, with Java's fail-fast iteration.
import { AbstractCollection } from './abstract-collection.ts'
import { naturalOrder, type Comparator } from './comparator.ts'
import { combineHashes, hashOf, valueEquals } from './equality.ts'
import { ConcurrentModificationException, IllegalStateException, IndexOutOfBoundsException, NoSuchElementException } from './errors.ts'
import type { Iterator, List } from './interfaces.ts'

export class ArrayList<E> extends AbstractCollection<E> implements List<E> {
  #elements: E[]
  /** Counts structural changes (size changes); iterators compare it to detect concurrent modification. */
  modCount = 0

  constructor(elements?: Iterable<E>) {
    super()
    this.#elements = elements === undefined ? [] : Array.from(elements)
  }

  static from<E>(elements: Iterable<E>): ArrayList<E> {
    return new ArrayList(elements)
  }

  static of<E>(...elements: E[]): ArrayList<E> {
    return new ArrayList(elements)
  }

  size(): number {
    return this.#elements.length
  }

  get(index: number): E {
    this.#checkIndex(index)
    return this.#elements[index]!
  }

  set(index: number, element: E): E {
    this.#checkIndex(index)
    const previous = this.#elements[index]!
    this.#elements[index] = element
    return previous
  }

  add(element: E): boolean {
    this.modCount++
    this.#elements.push(element)
    return true
  }

  addAt(index: number, element: E): void {
    if (!Number.isInteger(index) || index < 0 || index > this.#elements.length) throw new IndexOutOfBoundsException(index, this.#elements.length)
    this.modCount++
    if (index === this.#elements.length) this.#elements.push(element)
    else this.#elements.splice(index, 0, element)
  }

  addAll(elements: Iterable<E>): boolean {
    const added = Array.from(elements)
    if (added.length === 0) return false
    this.modCount++
    for (const e of added) this.#elements.push(e)
    return true
  }

  removeAt(index: number): E {
    this.#checkIndex(index)
    this.modCount++
    if (index === this.#elements.length - 1) return this.#elements.pop()!
    return this.#elements.splice(index, 1)[0]!
  }

  remove(element: E): boolean {
    const index = this.indexOf(element)
    if (index < 0) return false
    this.removeAt(index)
    return true
  }

  removeIf(predicate: (element: E) => boolean): boolean {
    const expected = this.modCount
    const kept: E[] = []
    for (const e of this.#elements) {
      if (!predicate(e)) kept.push(e)
      if (this.modCount !== expected) throw new ConcurrentModificationException()
    }
    if (kept.length === this.#elements.length) return false
    this.#elements = kept
    this.modCount++
    return true
  }

  clear(): void {
    this.modCount++
    this.#elements = []
  }

  contains(element: E): boolean {
    return this.indexOf(element) >= 0
  }

  indexOf(element: E): number {
    const elements = this.#elements
    for (let i = 0; i < elements.length; i++) if (valueEquals(element, elements[i])) return i
    return -1
  }

  lastIndexOf(element: E): number {
    const elements = this.#elements
    for (let i = elements.length - 1; i >= 0; i--) if (valueEquals(element, elements[i])) return i
    return -1
  }

  /** Stable sort (Array.prototype.sort is stable), natural order by default. */
  sort(comparator: Comparator<E> = naturalOrder()): void {
    this.#elements.sort(comparator)
    this.modCount++ // Java's ArrayList.sort also counts as a modification
  }

  replaceAll(operator: (element: E) => E): void {
    const expected = this.modCount
    const elements = this.#elements
    for (let i = 0; i < elements.length; i++) {
      elements[i] = operator(elements[i]!)
      if (this.modCount !== expected) throw new ConcurrentModificationException()
    }
  }

  forEach(action: (element: E) => void): void {
    const expected = this.modCount
    const elements = this.#elements
    for (let i = 0; i < elements.length; i++) {
      action(elements[i]!)
      if (this.modCount !== expected) throw new ConcurrentModificationException()
    }
  }

  toArray(): E[] {
    return this.#elements.slice()
  }

  iterator(): Iterator<E> {
    return new ArrayListIterator(this)
  }

  *[Symbol.iterator](): IterableIterator<E> {
    const expected = this.modCount
    const elements = this.#elements
    for (let i = 0; i < elements.length; i++) {
      yield elements[i]!
      if (this.modCount !== expected) throw new ConcurrentModificationException()
    }
  }

  /** A new list of the elements from `from` (inclusive) to `to` (exclusive). */
  slice(from: number, to: number = this.#elements.length): ArrayList<E> {
    if (from < 0 || to > this.#elements.length || from > to) throw new IndexOutOfBoundsException(from < 0 || from > to ? from : to, this.#elements.length)
    return new ArrayList(this.#elements.slice(from, to))
  }

  equals(other: unknown): boolean {
    return listEquals(this, other)
  }

  hashCode(): number {
    return combineHashes(this.toArray().map(hashOf))
  }

  #checkIndex(index: number): void {
    if (!(index >= 0 && index < this.#elements.length && Number.isInteger(index))) throw new IndexOutOfBoundsException(index, this.#elements.length)
  }
}

/** List equality as in java.util.List: same size and pairwise-equal elements in order. */
export function listEquals<E>(list: List<E>, other: unknown): boolean {
  if (other === list) return true
  if (!(other instanceof AbstractCollection) || typeof (other as List<E>).get !== 'function') return false
  if (list.size() !== other.size()) return false
  const a = list[Symbol.iterator]()
  for (const b of other as List<E>) if (!valueEquals(a.next().value, b)) return false
  return true
}

class ArrayListIterator<E> implements Iterator<E> {
  #cursor = 0
  #lastReturned = -1
  #expected: number

  readonly #list: ArrayList<E>

  constructor(list: ArrayList<E>) {
    this.#list = list
    this.#expected = list.modCount
  }

  hasNext(): boolean {
    return this.#cursor < this.#list.size()
  }

  next(): E {
    if (this.#list.modCount !== this.#expected) throw new ConcurrentModificationException()
    if (this.#cursor >= this.#list.size()) throw new NoSuchElementException('iteration has no more elements')
    this.#lastReturned = this.#cursor++
    return this.#list.get(this.#lastReturned)
  }

  remove(): void {
    if (this.#lastReturned < 0) throw new IllegalStateException('remove() requires a preceding next()')
    if (this.#list.modCount !== this.#expected) throw new ConcurrentModificationException()
    this.#list.removeAt(this.#lastReturned)
    this.#cursor = this.#lastReturned
    this.#lastReturned = -1
    this.#expected = this.#list.modCount
  }
}
