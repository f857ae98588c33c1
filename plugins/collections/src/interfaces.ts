// The collection interfaces, after java.util. Method names follow Java; where Java relies on
// overloading that TypeScript cannot express safely the method gets its own name (List.addAt,
// List.removeAt), and Java's null return values are `undefined`.
import type { Comparator } from './comparator.ts'

/** A Java-style iterator: `hasNext`, `next`, and `remove` of the element last returned. */
export interface Iterator<E> {
  hasNext(): boolean
  /** The next element; NoSuchElementException when there is none. */
  next(): E
  /** Removes the element last returned by next(); IllegalStateException when there is none. */
  remove(): void
}

export interface Collection<E> extends Iterable<E> {
  size(): number
  isEmpty(): boolean
  contains(element: E): boolean
  containsAll(elements: Iterable<E>): boolean
  /** Adds `element`; true when the collection changed. */
  add(element: E): boolean
  /** Removes one occurrence of `element`; true when the collection changed. */
  remove(element: E): boolean
  addAll(elements: Iterable<E>): boolean
  removeAll(elements: Iterable<E>): boolean
  retainAll(elements: Iterable<E>): boolean
  removeIf(predicate: (element: E) => boolean): boolean
  clear(): void
  iterator(): Iterator<E>
  forEach(action: (element: E) => void): void
  toArray(): E[]
  [Symbol.iterator](): IterableIterator<E>
}

export interface List<E> extends Collection<E> {
  get(index: number): E
  /** Replaces the element at `index`; returns the previous one. */
  set(index: number, element: E): E
  /** Inserts at `index` (Java's add(int, E)). */
  addAt(index: number, element: E): void
  /** Removes the element at `index` and returns it (Java's remove(int)). */
  removeAt(index: number): E
  indexOf(element: E): number
  lastIndexOf(element: E): number
  sort(comparator?: Comparator<E>): void
  replaceAll(operator: (element: E) => E): void
  equals(other: unknown): boolean
  hashCode(): number
}

export interface Queue<E> extends Collection<E> {
  /** Inserts; false when a capacity bound refuses the element. */
  offer(element: E): boolean
  /** Removes and returns the head, or undefined when empty. */
  poll(): E | undefined
  /** Returns the head, or undefined when empty. */
  peek(): E | undefined
  /** Returns the head; NoSuchElementException when empty. */
  element(): E
  /** Removes and returns the head; NoSuchElementException when empty. */
  remove(): E
  remove(element: E): boolean
}

export interface Deque<E> extends Queue<E> {
  addFirst(element: E): void
  addLast(element: E): void
  offerFirst(element: E): boolean
  offerLast(element: E): boolean
  removeFirst(): E
  removeLast(): E
  pollFirst(): E | undefined
  pollLast(): E | undefined
  getFirst(): E
  getLast(): E
  peekFirst(): E | undefined
  peekLast(): E | undefined
  removeFirstOccurrence(element: E): boolean
  removeLastOccurrence(element: E): boolean
  /** Stack push: addFirst. */
  push(element: E): void
  /** Stack pop: removeFirst. */
  pop(): E
  descendingIterator(): Iterator<E>
}

export interface Set<E> extends Collection<E> {
  equals(other: unknown): boolean
  hashCode(): number
}

export interface SortedSet<E> extends Set<E> {
  comparator(): Comparator<E>
  first(): E
  last(): E
  headSet(toElement: E): SortedSet<E>
  tailSet(fromElement: E): SortedSet<E>
  subSet(fromElement: E, toElement: E): SortedSet<E>
}

export interface NavigableSet<E> extends SortedSet<E> {
  lower(element: E): E | undefined
  floor(element: E): E | undefined
  ceiling(element: E): E | undefined
  higher(element: E): E | undefined
  pollFirst(): E | undefined
  pollLast(): E | undefined
  descendingSet(): NavigableSet<E>
  descendingIterator(): Iterator<E>
  headSet(toElement: E, inclusive?: boolean): NavigableSet<E>
  tailSet(fromElement: E, inclusive?: boolean): NavigableSet<E>
  subSet(fromElement: E, toElement: E): NavigableSet<E>
  subSet(fromElement: E, fromInclusive: boolean, toElement: E, toInclusive: boolean): NavigableSet<E>
}

/** A key-value pair. Entries handed out by maps are snapshots; change values through the map. */
export interface MapEntry<K, V> {
  readonly key: K
  readonly value: V
}

export interface Map<K, V> extends Iterable<[K, V]> {
  size(): number
  isEmpty(): boolean
  get(key: K): V | undefined
  getOrDefault(key: K, defaultValue: V): V
  containsKey(key: K): boolean
  containsValue(value: V): boolean
  /** Associates `value` with `key`; returns the previous value or undefined. */
  put(key: K, value: V): V | undefined
  putAll(entries: Iterable<readonly [K, V]>): void
  putIfAbsent(key: K, value: V): V | undefined
  /** Removes the mapping for `key`; returns its value or undefined. */
  remove(key: K): V | undefined
  clear(): void
  computeIfAbsent(key: K, compute: (key: K) => V | undefined): V | undefined
  computeIfPresent(key: K, compute: (key: K, value: V) => V | undefined): V | undefined
  compute(key: K, compute: (key: K, value: V | undefined) => V | undefined): V | undefined
  merge(key: K, value: V, combine: (oldValue: V, value: V) => V | undefined): V | undefined
  /** A live view of the keys; removing from it removes from the map. */
  keySet(): Set<K>
  /** A live view of the values. */
  values(): Collection<V>
  /** A live view of the entries. */
  entrySet(): Set<MapEntry<K, V>>
  forEach(action: (value: V, key: K) => void): void
  /** The keys in iteration order, for for...of and spread. */
  keys(): IterableIterator<K>
  entryIterator(): Iterator<MapEntry<K, V>>
  toMap(): globalThis.Map<K, V>
  equals(other: unknown): boolean
  hashCode(): number
  [Symbol.iterator](): IterableIterator<[K, V]>
}

export interface SortedMap<K, V> extends Map<K, V> {
  comparator(): Comparator<K>
  firstKey(): K
  lastKey(): K
  headMap(toKey: K): SortedMap<K, V>
  tailMap(fromKey: K): SortedMap<K, V>
  subMap(fromKey: K, toKey: K): SortedMap<K, V>
}

export interface NavigableMap<K, V> extends SortedMap<K, V> {
  firstEntry(): MapEntry<K, V> | undefined
  lastEntry(): MapEntry<K, V> | undefined
  pollFirstEntry(): MapEntry<K, V> | undefined
  pollLastEntry(): MapEntry<K, V> | undefined
  lowerEntry(key: K): MapEntry<K, V> | undefined
  lowerKey(key: K): K | undefined
  floorEntry(key: K): MapEntry<K, V> | undefined
  floorKey(key: K): K | undefined
  ceilingEntry(key: K): MapEntry<K, V> | undefined
  ceilingKey(key: K): K | undefined
  higherEntry(key: K): MapEntry<K, V> | undefined
  higherKey(key: K): K | undefined
  descendingMap(): NavigableMap<K, V>
  navigableKeySet(): NavigableSet<K>
  descendingKeySet(): NavigableSet<K>
  headMap(toKey: K, inclusive?: boolean): NavigableMap<K, V>
  tailMap(fromKey: K, inclusive?: boolean): NavigableMap<K, V>
  subMap(fromKey: K, toKey: K): NavigableMap<K, V>
  subMap(fromKey: K, fromInclusive: boolean, toKey: K, toInclusive: boolean): NavigableMap<K, V>
}
