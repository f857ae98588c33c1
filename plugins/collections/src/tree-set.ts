// A sorted set backed by a NavigableMap, as java.util.TreeSet. Subsets and descending sets are
// TreeSets over the corresponding live map views, so they are live as well.
import { AbstractCollection } from './abstract-collection.ts'
import { setEquals, setHashCode, unsupported } from './abstract-map.ts'
import type { Comparator } from './comparator.ts'
import type { Iterator, MapEntry, NavigableMap, NavigableSet } from './interfaces.ts'
import { TreeMap } from './tree-map.ts'

const PRESENT = true

class KeyIterator<E> implements Iterator<E> {
  readonly #entries: Iterator<MapEntry<E, unknown>>
  constructor(entries: Iterator<MapEntry<E, unknown>>) {
    this.#entries = entries
  }
  hasNext(): boolean {
    return this.#entries.hasNext()
  }
  next(): E {
    return this.#entries.next().key
  }
  remove(): void {
    this.#entries.remove()
  }
}

export class TreeSet<E> extends AbstractCollection<E> implements NavigableSet<E> {
  #map: NavigableMap<E, unknown>
  /** False for a map's key set: keys cannot be added without values. */
  #addable = true

  constructor(comparator?: Comparator<E> | null, elements?: Iterable<E> | null) {
    super()
    this.#map = new TreeMap<E, unknown>(comparator)
    if (elements) for (const e of elements) this.#map.put(e, PRESENT)
  }

  static from<E>(elements: Iterable<E>, comparator?: Comparator<E>): TreeSet<E> {
    return new TreeSet(comparator, elements)
  }

  static of<E>(...elements: E[]): TreeSet<E> {
    return new TreeSet(null, elements)
  }

  /** A set view over `map` (shares its entries). */
  static #over<E>(map: NavigableMap<E, unknown>, addable: boolean): TreeSet<E> {
    const set = new TreeSet<E>()
    set.#map = map
    set.#addable = addable
    return set
  }

  /** The live key set of a sorted map; removing keys removes entries, adding is unsupported. @internal */
  static keySetOf<K>(map: NavigableMap<K, unknown>): TreeSet<K> {
    return TreeSet.#over(map, false)
  }

  comparator(): Comparator<E> {
    return this.#map.comparator()
  }
  size(): number {
    return this.#map.size()
  }
  isEmpty(): boolean {
    return this.#map.isEmpty()
  }
  contains(element: E): boolean {
    return this.#map.containsKey(element)
  }
  add(element: E): boolean {
    if (!this.#addable) unsupported('add')
    if (this.#map.containsKey(element)) return false
    this.#map.put(element, PRESENT)
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

  first(): E {
    return this.#map.firstKey()
  }
  last(): E {
    return this.#map.lastKey()
  }
  lower(element: E): E | undefined {
    return this.#map.lowerKey(element)
  }
  floor(element: E): E | undefined {
    return this.#map.floorKey(element)
  }
  ceiling(element: E): E | undefined {
    return this.#map.ceilingKey(element)
  }
  higher(element: E): E | undefined {
    return this.#map.higherKey(element)
  }
  pollFirst(): E | undefined {
    return this.#map.pollFirstEntry()?.key
  }
  pollLast(): E | undefined {
    return this.#map.pollLastEntry()?.key
  }

  descendingSet(): NavigableSet<E> {
    return TreeSet.#over(this.#map.descendingMap(), this.#addable)
  }
  headSet(toElement: E, inclusive = false): NavigableSet<E> {
    return TreeSet.#over(this.#map.headMap(toElement, inclusive), this.#addable)
  }
  tailSet(fromElement: E, inclusive = true): NavigableSet<E> {
    return TreeSet.#over(this.#map.tailMap(fromElement, inclusive), this.#addable)
  }
  /** `subSet(from, to)` is [from, to); the four-argument form chooses each bound's inclusiveness. */
  subSet(fromElement: E, toElement: E): NavigableSet<E>
  subSet(fromElement: E, fromInclusive: boolean, toElement: E, toInclusive: boolean): NavigableSet<E>
  subSet(fromElement: E, a: E | boolean, b?: E, c?: boolean): NavigableSet<E> {
    const view = arguments.length <= 2 ? this.#map.subMap(fromElement, a as E) : this.#map.subMap(fromElement, a as boolean, b as E, c as boolean)
    return TreeSet.#over(view, this.#addable)
  }

  iterator(): Iterator<E> {
    return new KeyIterator(this.#map.entryIterator())
  }
  descendingIterator(): Iterator<E> {
    return new KeyIterator(this.#map.descendingMap().entryIterator())
  }
  *[Symbol.iterator](): IterableIterator<E> {
    for (const [key] of this.#map) yield key
  }

  /** A native Set with the same elements in the same order. */
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
