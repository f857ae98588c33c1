// Shared behaviour of every map, written against a handful of primitives (get, containsKey, put,
// remove, size, entryIterator), the way java.util.AbstractMap does, plus the live keySet, values
// and entrySet views.
import { AbstractCollection } from './abstract-collection.ts'
import { hashOf, valueEquals } from './equality.ts'
import { UnsupportedOperationException, describe } from './errors.ts'
import type { Collection, Iterator, Map, MapEntry, Set } from './interfaces.ts'

export abstract class AbstractMap<K, V> implements Map<K, V> {
  abstract size(): number
  abstract get(key: K): V | undefined
  abstract containsKey(key: K): boolean
  abstract put(key: K, value: V): V | undefined
  abstract remove(key: K): V | undefined
  abstract clear(): void
  abstract entryIterator(): Iterator<MapEntry<K, V>>

  isEmpty(): boolean {
    return this.size() === 0
  }

  getOrDefault(key: K, defaultValue: V): V {
    const value = this.get(key)
    return value !== undefined || this.containsKey(key) ? (value as V) : defaultValue
  }

  containsValue(value: V): boolean {
    for (const [, v] of this) if (valueEquals(value, v)) return true
    return false
  }

  putAll(entries: Iterable<readonly [K, V]>): void {
    for (const [key, value] of entries) this.put(key, value)
  }

  putIfAbsent(key: K, value: V): V | undefined {
    const current = this.get(key)
    if (current === undefined) this.put(key, value)
    return current
  }

  computeIfAbsent(key: K, compute: (key: K) => V | undefined): V | undefined {
    const current = this.get(key)
    if (current !== undefined) return current
    const value = compute(key)
    if (value !== undefined) this.put(key, value)
    return value
  }

  computeIfPresent(key: K, compute: (key: K, value: V) => V | undefined): V | undefined {
    const current = this.get(key)
    if (current === undefined) return undefined
    const value = compute(key, current)
    if (value === undefined) this.remove(key)
    else this.put(key, value)
    return value
  }

  compute(key: K, compute: (key: K, value: V | undefined) => V | undefined): V | undefined {
    const current = this.get(key)
    const value = compute(key, current)
    if (value === undefined) {
      if (current !== undefined || this.containsKey(key)) this.remove(key)
    } else this.put(key, value)
    return value
  }

  merge(key: K, value: V, combine: (oldValue: V, value: V) => V | undefined): V | undefined {
    const current = this.get(key)
    const merged = current === undefined ? value : combine(current, value)
    if (merged === undefined) this.remove(key)
    else this.put(key, merged)
    return merged
  }

  keySet(): Set<K> {
    return new KeySetView(this)
  }

  values(): Collection<V> {
    return new ValuesView(this)
  }

  entrySet(): Set<MapEntry<K, V>> {
    return new EntrySetView(this)
  }

  forEach(action: (value: V, key: K) => void): void {
    for (const [key, value] of this) action(value, key)
  }

  *[Symbol.iterator](): IterableIterator<[K, V]> {
    const it = this.entryIterator()
    while (it.hasNext()) {
      const entry = it.next()
      yield [entry.key, entry.value]
    }
  }

  /** Iterates the keys (same order as the map). */
  *keys(): IterableIterator<K> {
    for (const [key] of this) yield key
  }

  /** Iterates the values (same order as the map). */
  *valuesIterable(): IterableIterator<V> {
    for (const [, value] of this) yield value
  }

  /** A native Map with the same entries in the same order (native Map compares keys by SameValueZero). */
  toMap(): globalThis.Map<K, V> {
    return new globalThis.Map(this)
  }

  /** The entries as [key, value] pairs. */
  toArray(): [K, V][] {
    return Array.from(this)
  }

  /** Map equality as in java.util.Map: the same keys mapped to equal values. */
  equals(other: unknown): boolean {
    if (other === this) return true
    if (!(other instanceof AbstractMap) || other.size() !== this.size()) return false
    for (const [key, value] of this) {
      const theirs = other.get(key)
      if (!valueEquals(value, theirs) || (theirs === undefined && !other.containsKey(key))) return false
    }
    return true
  }

  /** Sum of hash(key) ^ hash(value) over the entries, as java.util.Map.hashCode. */
  hashCode(): number {
    let hash = 0
    for (const [key, value] of this) hash = (hash + (hashOf(key) ^ hashOf(value))) | 0
    return hash
  }

  toString(): string {
    const parts: string[] = []
    for (const [key, value] of this) parts.push(`${describe(key)}=${describe(value)}`)
    return `{${parts.join(', ')}}`
  }
}

/** Set equality as in java.util.Set: same size and every element of one is in the other. */
export function setEquals<E>(set: Set<E>, other: unknown): boolean {
  if (other === set) return true
  if (!(other instanceof AbstractCollection) || typeof (other as Partial<Set<E>>).hashCode !== 'function') return false
  if ((other as Set<E>).size() !== set.size()) return false
  try {
    return set.containsAll(other as Set<E>)
  } catch {
    return false // e.g. elements the set's comparator cannot compare
  }
}

/** Sum of the element hashes, as java.util.Set.hashCode. */
export function setHashCode<E>(set: Iterable<E>): number {
  let hash = 0
  for (const e of set) hash = (hash + hashOf(e)) | 0
  return hash
}

/** Maps each element of an iterator through `project`, keeping its remove(). */
class ProjectingIterator<T, R> implements Iterator<R> {
  readonly #source: Iterator<T>
  readonly #project: (value: T) => R
  constructor(source: Iterator<T>, project: (value: T) => R) {
    this.#source = source
    this.#project = project
  }
  hasNext(): boolean {
    return this.#source.hasNext()
  }
  next(): R {
    return this.#project(this.#source.next())
  }
  remove(): void {
    this.#source.remove()
  }
}

const keyOf = <K>(entry: MapEntry<K, unknown>): K => entry.key
const valueOf = <V>(entry: MapEntry<unknown, V>): V => entry.value

class KeySetView<K> extends AbstractCollection<K> implements Set<K> {
  readonly #map: Map<K, unknown>
  constructor(map: Map<K, unknown>) {
    super()
    this.#map = map
  }
  size(): number {
    return this.#map.size()
  }
  contains(key: K): boolean {
    return this.#map.containsKey(key)
  }
  remove(key: K): boolean {
    if (!this.#map.containsKey(key)) return false
    this.#map.remove(key)
    return true
  }
  clear(): void {
    this.#map.clear()
  }
  iterator(): Iterator<K> {
    return new ProjectingIterator(this.#map.entryIterator(), keyOf)
  }
  equals(other: unknown): boolean {
    return setEquals(this, other)
  }
  hashCode(): number {
    return setHashCode(this)
  }
}

class ValuesView<V> extends AbstractCollection<V> {
  readonly #map: Map<unknown, V>
  constructor(map: Map<unknown, V>) {
    super()
    this.#map = map
  }
  size(): number {
    return this.#map.size()
  }
  clear(): void {
    this.#map.clear()
  }
  iterator(): Iterator<V> {
    return new ProjectingIterator(this.#map.entryIterator(), valueOf)
  }
}

class EntrySetView<K, V> extends AbstractCollection<MapEntry<K, V>> implements Set<MapEntry<K, V>> {
  readonly #map: Map<K, V>
  constructor(map: Map<K, V>) {
    super()
    this.#map = map
  }
  size(): number {
    return this.#map.size()
  }
  contains(entry: MapEntry<K, V>): boolean {
    const value = this.#map.get(entry.key)
    return valueEquals(entry.value, value) && (value !== undefined || this.#map.containsKey(entry.key))
  }
  remove(entry: MapEntry<K, V>): boolean {
    if (!this.contains(entry)) return false
    this.#map.remove(entry.key)
    return true
  }
  clear(): void {
    this.#map.clear()
  }
  iterator(): Iterator<MapEntry<K, V>> {
    return this.#map.entryIterator()
  }
  equals(other: unknown): boolean {
    return setEquals(this, other)
  }
  hashCode(): number {
    let hash = 0
    for (const e of this) hash = (hash + (hashOf(e.key) ^ hashOf(e.value))) | 0
    return hash
  }
}

/** Throws for writes through views that cannot accept them. */
export function unsupported(operation: string): never {
  throw new UnsupportedOperationException(`${operation} is not supported by this view`)
}
