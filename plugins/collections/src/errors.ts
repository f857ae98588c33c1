// Errors named after their java.util counterparts, so code ported from Java (and people who know
// Java) can rely on the same names for the same situations.

/** Base class of every error thrown by the collections; `name` is the subclass name. */
export class CollectionException extends Error {
  constructor(message: string) {
    super(message)
    this.name = new.target.name
  }
}

/** A collection was structurally modified while an iterator over it was in use. */
export class ConcurrentModificationException extends CollectionException {
  constructor(message = 'collection was modified during iteration') {
    super(message)
  }
}

/** An element was requested from an empty collection or an exhausted iterator. */
export class NoSuchElementException extends CollectionException {}

/** An index lies outside the valid range of a list. */
export class IndexOutOfBoundsException extends CollectionException {
  constructor(
    readonly index: number,
    readonly size: number,
  ) {
    super(`index ${index} out of bounds for length ${size}`)
  }
}

/** An argument is invalid: a negative capacity, a key outside a view's range, mismatched bounds. */
export class IllegalArgumentException extends CollectionException {}

/** The operation is not supported, for instance a write through an unmodifiable view. */
export class UnsupportedOperationException extends CollectionException {}

/** A method was called at the wrong time, such as Iterator.remove() before next(). */
export class IllegalStateException extends CollectionException {}

/** Renders a value for an error message without throwing on exotic values. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'bigint') return `${value}n`
  if (typeof value === 'symbol') return value.toString()
  if (value !== null && typeof value === 'object') {
    const own = (value as { toString?: unknown }).toString
    if (typeof own === 'function' && own !== Object.prototype.toString) {
      try {
        return String(value)
      } catch {
        return '[object]'
      }
    }
    try {
      return JSON.stringify(value) ?? String(value)
    } catch {
      return '[object]'
    }
  }
  return String(value)
}
