// Algorithms and wrappers over collections, after java.util.Collections.
import { AbstractCollection } from './abstract-collection.ts'
import { AbstractMap } from './abstract-map.ts'
import { naturalOrder, type Comparator } from './comparator.ts'
import { valueEquals } from './equality.ts'
import { NoSuchElementException, UnsupportedOperationException } from './errors.ts'
import type { Collection, List, Map, NavigableMap, NavigableSet, Set } from './interfaces.ts'

/** Sorts `list` in place, stably (equal elements keep their order), natural order by default. */
export function sort<E>(list: List<E>, comparator: Comparator<E> = naturalOrder()): void {
  list.sort(comparator)
}

/**
 * Searches a list sorted by `comparator`. Returns the index of `key`, or `-(insertionPoint) - 1`
 * when absent, as java.util.Collections.binarySearch.
 */
export function binarySearch<E>(list: List<E> | readonly E[], key: E, comparator: Comparator<E> = naturalOrder()): number {
  const at = Array.isArray(list) ? (i: number) => (list as readonly E[])[i]! : (i: number) => (list as List<E>).get(i)
  let low = 0
  let high = (Array.isArray(list) ? list.length : (list as List<E>).size()) - 1
  while (low <= high) {
    const mid = (low + high) >>> 1
    const c = comparator(at(mid), key)
    if (c < 0) low = mid + 1
    else if (c > 0) high = mid - 1
    else return mid
  }
  return -(low + 1)
}

/** Reverses `list` in place. */
export function reverse<E>(list: List<E>): void {
  for (let i = 0, j = list.size() - 1; i < j; i++, j--) swap(list, i, j)
}

/** Swaps the elements at `i` and `j`. */
export function swap<E>(list: List<E>, i: number, j: number): void {
  list.set(i, list.set(j, list.get(i)))
}

/** A small, fast 32-bit generator (mulberry32): the same seed always gives the same sequence. */
export function seededRandom(seed: number): () => number {
  let state = seed | 0
  return () => {
    state = (state + 0x6d2b79f5) | 0
    let t = Math.imul(state ^ (state >>> 15), 1 | state)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * Shuffles `list` in place with the Fisher-Yates algorithm Java uses. Pass a seed for a
 * reproducible order, or a function returning numbers in [0, 1); Math.random by default.
 */
export function shuffle<E>(list: List<E>, random: number | (() => number) = Math.random): void {
  const next = typeof random === 'number' ? seededRandom(random) : random
  for (let i = list.size() - 1; i > 0; i--) swap(list, i, Math.floor(next() * (i + 1)))
}

/** The least element by `comparator`; NoSuchElementException when empty. */
export function min<E>(elements: Iterable<E>, comparator: Comparator<E> = naturalOrder()): E {
  let found = false
  let best: E | undefined
  for (const e of elements) {
    if (!found || comparator(e, best as E) < 0) best = e
    found = true
  }
  if (!found) throw new NoSuchElementException('collection is empty')
  return best as E
}

/** The greatest element by `comparator`; NoSuchElementException when empty. */
export function max<E>(elements: Iterable<E>, comparator: Comparator<E> = naturalOrder()): E {
  let found = false
  let best: E | undefined
  for (const e of elements) {
    if (!found || comparator(e, best as E) > 0) best = e
    found = true
  }
  if (!found) throw new NoSuchElementException('collection is empty')
  return best as E
}

/** How many elements equal `element` (Java equality). */
export function frequency<E>(collection: Collection<E>, element: E): number {
  let n = 0
  for (const e of collection) if (valueEquals(element, e)) n++
  return n
}

// ---- unmodifiable views ----

/** Every method that changes a collection, a map or an iterator. */
const MUTATORS = new globalThis.Set<PropertyKey>([
  'add',
  'addAt',
  'addAll',
  'addFirst',
  'addLast',
  'offer',
  'offerFirst',
  'offerLast',
  'push',
  'remove',
  'removeAt',
  'removeAll',
  'retainAll',
  'removeIf',
  'removeFirst',
  'removeLast',
  'removeFirstOccurrence',
  'removeLastOccurrence',
  'poll',
  'pollFirst',
  'pollLast',
  'pop',
  'pollFirstEntry',
  'pollLastEntry',
  'clear',
  'set',
  'sort',
  'replaceAll',
  'put',
  'putAll',
  'putIfAbsent',
  'compute',
  'computeIfAbsent',
  'computeIfPresent',
  'merge',
])

/** Results that are themselves views (keySet, headMap, iterator...) get the same protection. */
function needsWrapping(value: unknown): value is object {
  return (
    value instanceof AbstractCollection ||
    value instanceof AbstractMap ||
    (value !== null && typeof value === 'object' && typeof (value as { hasNext?: unknown }).hasNext === 'function')
  )
}

function readOnly<T extends object>(target: T): T {
  return new Proxy(target, {
    get(object, property) {
      const value = Reflect.get(object, property, object)
      if (typeof value !== 'function') return value
      if (MUTATORS.has(property)) {
        return () => {
          throw new UnsupportedOperationException(`${String(property)}() is not supported by an unmodifiable view`)
        }
      }
      return (...args: unknown[]) => {
        const result = (value as (...a: unknown[]) => unknown).apply(object, args)
        return needsWrapping(result) ? readOnly(result) : result
      }
    },
    set() {
      throw new UnsupportedOperationException('an unmodifiable view cannot be changed')
    },
  })
}

/** A live read-only view: reads pass through, writes throw UnsupportedOperationException. */
export function unmodifiableCollection<E>(collection: Collection<E>): Collection<E> {
  return readOnly(collection)
}
export function unmodifiableList<E>(list: List<E>): List<E> {
  return readOnly(list)
}
export function unmodifiableSet<E>(set: Set<E>): Set<E> {
  return readOnly(set)
}
export function unmodifiableNavigableSet<E>(set: NavigableSet<E>): NavigableSet<E> {
  return readOnly(set)
}
export function unmodifiableMap<K, V>(map: Map<K, V>): Map<K, V> {
  return readOnly(map)
}
export function unmodifiableNavigableMap<K, V>(map: NavigableMap<K, V>): NavigableMap<K, V> {
  return readOnly(map)
}
