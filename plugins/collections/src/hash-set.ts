// A hash set with Java's equality, backed by a HashMap as java.util.HashSet is.
import { AbstractCollection } from './abstract-collection.ts'
import { setEquals, setHashCode } from './abstract-map.ts'
import { HashMap, type HashMapOptions } from './hash-map.ts'
import type { Iterator, Set } from './interfaces.ts'

export class HashSet<E> extends AbstractCollection<E> implements Set<E> {
  readonly #map: HashMap<E, true>

  constructor(elements?: Iterable<E> | null, options?: HashMapOptions<E>) {
    super()
    this.#map = new HashMap<E, true>(null, options)
    if (elements) for (const e of elements) this.#map.put(e, true)
  }

  static from<E>(elements: Iterable<E>, options?: HashMapOptions<E>): HashSet<E> {
    return new HashSet(elements, options)
  }

  static of<E>(...elements: E[]): HashSet<E> {
    return new HashSet(elements)
  }

  size(): number {
    return this.#map.size()
  }
  contains(element: E): boolean {
    return this.#map.containsKey(element)
  }
  add(element: E): boolean {
    if (this.#map.containsKey(element)) return false
    this.#map.put(element, true)
    return true
  }
  remove(element: E): boolean {
    if (!this.#map.containsKey(element)) return false
    this.#map.remove(element)
    return true
  }
  clear(): void {
    this.#map.clear()
  }
  iterator(): Iterator<E> {
    return this.#map.keySet().iterator()
  }
  *[Symbol.iterator](): IterableIterator<E> {
    for (const [key] of this.#map) yield key
  }
  /** A native Set with the same elements (native Set compares by SameValueZero). */
  toSet(): globalThis.Set<E> {
    return new globalThis.Set(this)
  }
  equals(other: unknown): boolean {
    return setEquals(this, other)
  }
  hashCode(): number {
    return setHashCode(this)
  }
}
