// A hash map that remembers order - insertion order, or access order for caches - as
// java.util.LinkedHashMap. removeEldestEntry runs after every insertion, so a bounded LRU cache is:
//
//   class Lru<K, V> extends LinkedHashMap<K, V> {
//     readonly #max: number
//     constructor(max: number) {
//       super(null, { accessOrder: true })
//       this.#max = max
//     }
//     protected override removeEldestEntry() { return this.size() > this.#max }
//   }
import { AbstractMap } from './abstract-map.ts'
import { HashMap, type HashMapOptions } from './hash-map.ts'
import { ConcurrentModificationException, IllegalStateException, NoSuchElementException } from './errors.ts'
import type { Iterator, MapEntry } from './interfaces.ts'

class LinkedEntry<K, V> {
  before: LinkedEntry<K, V> | null = null
  after: LinkedEntry<K, V> | null = null
  constructor(
    readonly key: K,
    public value: V,
  ) {}
}

export interface LinkedHashMapOptions<K, V> extends HashMapOptions<K> {
  /** Order by last access (get, put of an existing key) instead of insertion. Default false. */
  accessOrder?: boolean
  /** Called after each insertion with the eldest entry; returning true removes it. */
  removeEldestEntry?: (eldest: MapEntry<K, V>, map: LinkedHashMap<K, V>) => boolean
}

export class LinkedHashMap<K, V> extends AbstractMap<K, V> {
  readonly #index: HashMap<K, LinkedEntry<K, V>>
  #head: LinkedEntry<K, V> | null = null
  #tail: LinkedEntry<K, V> | null = null
  readonly #accessOrder: boolean
  readonly #eldestHook: LinkedHashMapOptions<K, V>['removeEldestEntry']
  /** Counts structural changes (in access order, a get is one, as in Java). */
  modCount = 0

  constructor(entries?: Iterable<readonly [K, V]> | null, options: LinkedHashMapOptions<K, V> = {}) {
    super()
    this.#index = new HashMap(null, options)
    this.#accessOrder = options.accessOrder ?? false
    this.#eldestHook = options.removeEldestEntry
    if (entries) for (const [key, value] of entries) this.put(key, value)
  }

  static from<K, V>(entries: Iterable<readonly [K, V]>, options?: LinkedHashMapOptions<K, V>): LinkedHashMap<K, V> {
    return new LinkedHashMap(entries, options)
  }

  /**
   * Decides after each insertion whether the eldest entry is removed. Override it (or pass the
   * `removeEldestEntry` option) to bound the map; the default keeps everything.
   */
  protected removeEldestEntry(eldest: MapEntry<K, V>): boolean {
    return this.#eldestHook !== undefined ? this.#eldestHook(eldest, this) : false
  }

  #linkLast(entry: LinkedEntry<K, V>): void {
    entry.before = this.#tail
    entry.after = null
    if (this.#tail === null) this.#head = entry
    else this.#tail.after = entry
    this.#tail = entry
  }

  #unlink(entry: LinkedEntry<K, V>): void {
    if (entry.before === null) this.#head = entry.after
    else entry.before.after = entry.after
    if (entry.after === null) this.#tail = entry.before
    else entry.after.before = entry.before
  }

  #touch(entry: LinkedEntry<K, V>): void {
    if (this.#accessOrder && this.#tail !== entry) {
      this.#unlink(entry)
      this.#linkLast(entry)
      this.modCount++
    }
  }

  size(): number {
    return this.#index.size()
  }

  get(key: K): V | undefined {
    const entry = this.#index.get(key)
    if (entry === undefined) return undefined
    this.#touch(entry)
    return entry.value
  }

  containsKey(key: K): boolean {
    return this.#index.containsKey(key)
  }

  put(key: K, value: V): V | undefined {
    const existing = this.#index.get(key)
    if (existing !== undefined) {
      const previous = existing.value
      existing.value = value
      this.#touch(existing)
      return previous
    }
    const entry = new LinkedEntry(key, value)
    this.#index.put(key, entry)
    this.#linkLast(entry)
    this.modCount++
    const eldest = this.#head!
    if (this.removeEldestEntry({ key: eldest.key, value: eldest.value })) this.remove(eldest.key)
    return undefined
  }

  remove(key: K): V | undefined {
    const entry = this.#index.remove(key)
    if (entry === undefined) return undefined
    this.#unlink(entry)
    this.modCount++
    return entry.value
  }

  clear(): void {
    this.#index.clear()
    this.#head = this.#tail = null
    this.modCount++
  }

  /** The eldest entry (next to be evicted), or undefined when empty. */
  firstEntry(): MapEntry<K, V> | undefined {
    return this.#head === null ? undefined : { key: this.#head.key, value: this.#head.value }
  }

  /** The youngest entry, or undefined when empty. */
  lastEntry(): MapEntry<K, V> | undefined {
    return this.#tail === null ? undefined : { key: this.#tail.key, value: this.#tail.value }
  }

  /** @internal */
  firstLink(): LinkedEntry<K, V> | null {
    return this.#head
  }

  *[Symbol.iterator](): IterableIterator<[K, V]> {
    const expected = this.modCount
    for (let entry = this.#head; entry !== null; entry = entry.after) {
      if (this.modCount !== expected) throw new ConcurrentModificationException()
      yield [entry.key, entry.value]
    }
    if (this.modCount !== expected) throw new ConcurrentModificationException()
  }

  entryIterator(): Iterator<MapEntry<K, V>> {
    return new LinkedHashMapIterator(this)
  }
}

class LinkedHashMapIterator<K, V> implements Iterator<MapEntry<K, V>> {
  #nextEntry: LinkedEntry<K, V> | null
  #last: LinkedEntry<K, V> | null = null
  #expected: number

  readonly #map: LinkedHashMap<K, V>

  constructor(map: LinkedHashMap<K, V>) {
    this.#map = map
    this.#nextEntry = map.firstLink()
    this.#expected = map.modCount
  }

  hasNext(): boolean {
    return this.#nextEntry !== null
  }

  next(): MapEntry<K, V> {
    if (this.#map.modCount !== this.#expected) throw new ConcurrentModificationException()
    const entry = this.#nextEntry
    if (entry === null) throw new NoSuchElementException('iteration has no more elements')
    this.#last = entry
    this.#nextEntry = entry.after
    return { key: entry.key, value: entry.value }
  }

  remove(): void {
    if (this.#last === null) throw new IllegalStateException('remove() requires a preceding next()')
    if (this.#map.modCount !== this.#expected) throw new ConcurrentModificationException()
    this.#map.remove(this.#last.key)
    this.#last = null
    this.#expected = this.#map.modCount
  }
}
