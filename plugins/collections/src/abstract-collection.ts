// Shared behaviour of every collection, written once against iterator() and size(), the way
// java.util.AbstractCollection does. Classes override what they can do faster.
import { UnsupportedOperationException, describe } from './errors.ts'
import { valueEquals } from './equality.ts'
import type { Collection, Iterator } from './interfaces.ts'

/** Adapts a Java-style iterator to the JavaScript iteration protocol (for...of, spread). */
export function* iterate<E>(iterator: Iterator<E>): IterableIterator<E> {
  while (iterator.hasNext()) yield iterator.next()
}

export abstract class AbstractCollection<E> implements Collection<E> {
  abstract size(): number
  abstract iterator(): Iterator<E>

  isEmpty(): boolean {
    return this.size() === 0
  }

  contains(element: E): boolean {
    for (const e of this) if (valueEquals(element, e)) return true
    return false
  }

  containsAll(elements: Iterable<E>): boolean {
    for (const e of elements) if (!this.contains(e)) return false
    return true
  }

  add(element: E): boolean {
    throw new UnsupportedOperationException(`add(${describe(element)}) is not supported`)
  }

  remove(element: E): boolean {
    const it = this.iterator()
    while (it.hasNext()) {
      if (valueEquals(element, it.next())) {
        it.remove()
        return true
      }
    }
    return false
  }

  addAll(elements: Iterable<E>): boolean {
    // Copy first, so that c.addAll(c) terminates.
    let changed = false
    for (const e of Array.from(elements)) if (this.add(e)) changed = true
    return changed
  }

  removeAll(elements: Iterable<E>): boolean {
    const other = asCollection(elements)
    return this.removeIf((e) => other.contains(e))
  }

  retainAll(elements: Iterable<E>): boolean {
    const other = asCollection(elements)
    return this.removeIf((e) => !other.contains(e))
  }

  removeIf(predicate: (element: E) => boolean): boolean {
    let changed = false
    const it = this.iterator()
    while (it.hasNext()) {
      if (predicate(it.next())) {
        it.remove()
        changed = true
      }
    }
    return changed
  }

  clear(): void {
    const it = this.iterator()
    while (it.hasNext()) {
      it.next()
      it.remove()
    }
  }

  forEach(action: (element: E) => void): void {
    for (const e of this) action(e)
  }

  toArray(): E[] {
    return Array.from(this)
  }

  [Symbol.iterator](): IterableIterator<E> {
    return iterate(this.iterator())
  }

  toString(): string {
    return `[${this.toArray()
      .map((e) => (e === (this as unknown) ? '(this collection)' : describe(e)))
      .join(', ')}]`
  }
}

/** A membership test over any iterable: collections answer directly, others are copied. */
function asCollection<E>(elements: Iterable<E>): { contains(e: E): boolean } {
  if (elements instanceof AbstractCollection) return elements
  const array = Array.from(elements)
  return { contains: (e: E) => array.some((x) => valueEquals(e, x)) }
}
