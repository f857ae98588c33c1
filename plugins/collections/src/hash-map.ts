// A hash map with Java's equality: keys that define equals/hashCode (or every key, when a Hasher
// is supplied) are found by value; all other keys - primitives and plain objects - go straight
// into a native Map, which is the fastest table JavaScript has and already compares them the way
// Java would (primitives by value, objects by identity).
import { AbstractMap } from './abstract-map.ts'
import { isHashable, type Hashable, type Hasher } from './equality.ts'
import { ConcurrentModificationException, IllegalStateException, NoSuchElementException } from './errors.ts'
import type { Iterator, MapEntry } from './interfaces.ts'

/** A chain link of the value-equality table; entries whose hashes collide share a chain. */
class HashEntry<K, V> {
  constructor(
    readonly key: K,
    public value: V,
    readonly hash: number,
    public next: HashEntry<K, V> | null,
  ) {}
}

export interface HashMapOptions<K> {
  /** Equality and hashing for every key, instead of the keys' own equals/hashCode. */
  hasher?: Hasher<K>
}

export class HashMap<K, V> extends AbstractMap<K, V> {
  /** Keys compared by SameValueZero. */
  readonly #direct = new globalThis.Map<K, V>()
  /** Keys compared by equals/hashCode: hash code to the head of its chain. */
  readonly #chains = new globalThis.Map<number, HashEntry<K, V>>()
  #chained = 0
  readonly #hasher: Hasher<K> | undefined
  /** Counts structural changes; iterators compare it to detect concurrent modification. */
  modCount = 0

  constructor(entries?: Iterable<readonly [K, V]> | null, options: HashMapOptions<K> = {}) {
    super()
    this.#hasher = options.hasher
    if (entries) for (const [key, value] of entries) this.put(key, value)
  }

  /** A HashMap with the entries of a native Map (or any iterable of pairs). */
  static from<K, V>(entries: Iterable<readonly [K, V]>, options?: HashMapOptions<K>): HashMap<K, V> {
    return new HashMap(entries, options)
  }

  #hash(key: K): number {
    return this.#hasher !== undefined ? this.#hasher.hash(key) | 0 : (key as Hashable).hashCode() | 0
  }

  #same(a: K, b: K): boolean {
    return this.#hasher !== undefined ? this.#hasher.equals(a, b) : a === b || (a as Hashable).equals(b)
  }

  /** True when `key` is looked up by value (hasher or equals/hashCode) rather than natively. */
  #byValue(key: K): boolean {
    return this.#hasher !== undefined || isHashable(key)
  }

  #findEntry(key: K): HashEntry<K, V> | null {
    const hash = this.#hash(key)
    for (let entry = this.#chains.get(hash) ?? null; entry !== null; entry = entry.next) {
      if (entry.hash === hash && this.#same(key, entry.key)) return entry
    }
    return null
  }

  size(): number {
    return this.#direct.size + this.#chained
  }

  get(key: K): V | undefined {
    if (!this.#byValue(key)) return this.#direct.get(key)
    return this.#findEntry(key)?.value
  }

  containsKey(key: K): boolean {
    if (!this.#byValue(key)) return this.#direct.has(key)
    return this.#findEntry(key) !== null
  }

  put(key: K, value: V): V | undefined {
    if (!this.#byValue(key)) {
      const direct = this.#direct
      const previous = direct.get(key)
      if (previous === undefined && !direct.has(key)) this.modCount++
      direct.set(key, value)
      return previous
    }
    const hash = this.#hash(key)
    const head = this.#chains.get(hash) ?? null
    for (let entry = head; entry !== null; entry = entry.next) {
      if (this.#same(key, entry.key)) {
        const previous = entry.value
        entry.value = value
        return previous
      }
    }
    this.#chains.set(hash, new HashEntry(key, value, hash, head))
    this.#chained++
    this.modCount++
    return undefined
  }

  remove(key: K): V | undefined {
    if (!this.#byValue(key)) {
      const direct = this.#direct
      const previous = direct.get(key)
      if (direct.delete(key)) this.modCount++
      return previous
    }
    const hash = this.#hash(key)
    let previousEntry: HashEntry<K, V> | null = null
    for (let entry = this.#chains.get(hash) ?? null; entry !== null; previousEntry = entry, entry = entry.next) {
      if (this.#same(key, entry.key)) {
        if (previousEntry !== null) previousEntry.next = entry.next
        else if (entry.next !== null) this.#chains.set(hash, entry.next)
        else this.#chains.delete(hash)
        this.#chained--
        this.modCount++
        return entry.value
      }
    }
    return undefined
  }

  clear(): void {
    this.#direct.clear()
    this.#chains.clear()
    this.#chained = 0
    this.modCount++
  }

  /** The stored key equal to `key` (the canonical instance), or undefined. */
  getKey(key: K): K | undefined {
    if (!this.#byValue(key)) return this.#direct.has(key) ? key : undefined
    return this.#findEntry(key)?.key
  }

  /** Every entry, native keys first, then value-equal keys. Not fail-fast: callers check modCount. */
  *#rawEntries(): Generator<[K, V]> {
    yield* this.#direct
    for (const head of this.#chains.values()) {
      for (let entry: HashEntry<K, V> | null = head; entry !== null; entry = entry.next) yield [entry.key, entry.value]
    }
  }

  *[Symbol.iterator](): IterableIterator<[K, V]> {
    const expected = this.modCount
    for (const pair of this.#rawEntries()) {
      if (this.modCount !== expected) throw new ConcurrentModificationException()
      yield pair
    }
    if (this.modCount !== expected) throw new ConcurrentModificationException()
  }

  entryIterator(): Iterator<MapEntry<K, V>> {
    return new HashMapIterator(this, this.#rawEntries())
  }
}

class HashMapIterator<K, V> implements Iterator<MapEntry<K, V>> {
  #pending: IteratorResult<[K, V]>
  #last: [K, V] | undefined = undefined
  #expected: number

  readonly #map: HashMap<K, V>
  readonly #source: Generator<[K, V]>
  constructor(map: HashMap<K, V>, source: Generator<[K, V]>) {
    this.#map = map
    this.#source = source
    this.#expected = map.modCount
    this.#pending = source.next()
  }

  hasNext(): boolean {
    return !this.#pending.done
  }

  next(): MapEntry<K, V> {
    if (this.#map.modCount !== this.#expected) throw new ConcurrentModificationException()
    if (this.#pending.done) throw new NoSuchElementException('iteration has no more elements')
    const pair = (this.#last = this.#pending.value)
    // Look one ahead now: removing the current key later must not disturb the source.
    this.#pending = this.#source.next()
    return { key: pair[0], value: pair[1] }
  }

  remove(): void {
    if (this.#last === undefined) throw new IllegalStateException('remove() requires a preceding next()')
    if (this.#map.modCount !== this.#expected) throw new ConcurrentModificationException()
    this.#map.remove(this.#last[0])
    this.#last = undefined
    this.#expected = this.#map.modCount
  }
}
