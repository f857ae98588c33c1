// Comparators after java.util.Comparator. A comparator is a plain function returning a negative
// number, zero or a positive number; the helpers below compose them the way Java's default
// methods do (comparing, thenComparing, reversed, nullsFirst, nullsLast).
import { IllegalArgumentException, describe } from './errors.ts'

export type Comparator<T> = (a: T, b: T) => number

/** Objects that define their own natural order, like java.lang.Comparable. */
export interface Comparable<T> {
  compareTo(other: T): number
}

function hasCompareTo(value: unknown): value is Comparable<unknown> {
  return value !== null && typeof value === 'object' && typeof (value as Comparable<unknown>).compareTo === 'function'
}

/**
 * Natural order: numbers numerically (NaN after every other number as in Double.compare, but -0
 * equal to 0, as native Map keys are),
 * strings by UTF-16 code unit (as String.compareTo), bigints, booleans (false first), Dates by time,
 * and objects through their `compareTo`. Values of different kinds are not comparable.
 */
function compareNatural(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') {
    if (a < b) return -1
    if (a > b) return 1
    if (a === b) return 0
    // at least one NaN
    return a !== a ? (b !== b ? 0 : 1) : -1
  }
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0
  if (typeof a === 'bigint' && typeof b === 'bigint') return a < b ? -1 : a > b ? 1 : 0
  if (typeof a === 'boolean' && typeof b === 'boolean') return a === b ? 0 : a ? 1 : -1
  if (a instanceof Date && b instanceof Date) return compareNatural(a.getTime(), b.getTime())
  if (hasCompareTo(a)) return a.compareTo(b)
  throw new IllegalArgumentException(`${describe(a)} and ${describe(b)} are not mutually comparable`)
}

/**
 * The natural-order comparator. It is a single shared function so that the sorted collections can
 * recognise it by identity and take their faster number and string paths.
 */
export function naturalOrder<T>(): Comparator<T> {
  return compareNatural as Comparator<T>
}

/** True when `comparator` is natural order (or absent), the case sorted collections optimise. */
export function isNaturalOrder(comparator: Comparator<never> | undefined | null): boolean {
  return comparator === undefined || comparator === null || comparator === compareNatural
}

const reverseNatural: Comparator<unknown> = (a, b) => compareNatural(b, a)

/** The reverse of natural order. */
export function reverseOrder<T>(): Comparator<T> {
  return reverseNatural as Comparator<T>
}

/** A comparator ordering by the key `keyOf` extracts, compared with `keyComparator` (natural order by default). */
export function comparing<T, K>(keyOf: (value: T) => K, keyComparator: Comparator<K> = compareNatural): Comparator<T> {
  return (a, b) => keyComparator(keyOf(a), keyOf(b))
}

/** Orders by `first`, and values `first` finds equal by `second` (a comparator or a key extractor). */
export function thenComparing<T>(first: Comparator<T>, second: Comparator<T>): Comparator<T>
export function thenComparing<T, K>(first: Comparator<T>, keyOf: (value: T) => K, keyComparator?: Comparator<K>): Comparator<T>
export function thenComparing<T, K>(first: Comparator<T>, second: Comparator<T> | ((value: T) => K), keyComparator?: Comparator<K>): Comparator<T> {
  // A one-parameter function is a key extractor; a two-parameter one is a comparator (as Java's overloads).
  const tie: Comparator<T> =
    second.length === 1 || keyComparator !== undefined ? comparing(second as (value: T) => K, keyComparator ?? (compareNatural as Comparator<K>)) : (second as Comparator<T>)
  return (a, b) => {
    const result = first(a, b)
    return result !== 0 ? result : tie(a, b)
  }
}

/** The reverse ordering of `comparator`. */
export function reversed<T>(comparator: Comparator<T>): Comparator<T> {
  if (comparator === compareNatural) return reverseNatural as Comparator<T>
  if (comparator === reverseNatural) return compareNatural as Comparator<T>
  return (a, b) => comparator(b, a)
}

/** Puts null and undefined before every other value, ordering the rest with `comparator`. */
export function nullsFirst<T>(comparator: Comparator<NonNullable<T>> = compareNatural): Comparator<T> {
  return (a, b) => {
    if (a == null) return b == null ? 0 : -1
    if (b == null) return 1
    return comparator(a, b)
  }
}

/** Puts null and undefined after every other value, ordering the rest with `comparator`. */
export function nullsLast<T>(comparator: Comparator<NonNullable<T>> = compareNatural): Comparator<T> {
  return (a, b) => {
    if (a == null) return b == null ? 0 : 1
    if (b == null) return -1
    return comparator(a, b)
  }
}

/**
 * A fluent wrapper for chains such as `Comparators.comparing(byAge).thenComparing(byName).reversed()`;
 * `.compare` is the plain comparator function to hand to a collection.
 */
export class ComparatorChain<T> {
  constructor(readonly compare: Comparator<T>) {}
  static comparing<T, K>(keyOf: (value: T) => K, keyComparator?: Comparator<K>): ComparatorChain<T> {
    return new ComparatorChain(comparing(keyOf, keyComparator))
  }
  thenComparing(second: Comparator<T>): ComparatorChain<T>
  thenComparing<K>(keyOf: (value: T) => K, keyComparator?: Comparator<K>): ComparatorChain<T>
  thenComparing<K>(second: Comparator<T> | ((value: T) => K), keyComparator?: Comparator<K>): ComparatorChain<T> {
    return new ComparatorChain(thenComparing<T, K>(this.compare, second as (value: T) => K, keyComparator))
  }
  reversed(): ComparatorChain<T> {
    return new ComparatorChain(reversed(this.compare))
  }
}
