// Value equality after Java's equals/hashCode contract. Objects that define both `equals` and
// `hashCode` are compared by value; everything else by SameValueZero (identity for objects),
// which is what native Map and Set do and what Java's Object.equals does for plain objects.

/** Keys and elements that define their own equality. `a.equals(b)` implies equal hash codes. */
export interface Hashable {
  equals(other: unknown): boolean
  hashCode(): number
}

/** Equality and hashing supplied from outside, for keys that cannot carry methods (tuples, records). */
export interface Hasher<K> {
  hash(key: K): number
  equals(a: K, b: K): boolean
}

/** True when `value` defines both `equals` and `hashCode`. */
export function isHashable(value: unknown): value is Hashable {
  return value !== null && typeof value === 'object' && typeof (value as Hashable).equals === 'function' && typeof (value as Hashable).hashCode === 'function'
}

/** Java-style equality: `equals` when the left value defines it, otherwise SameValueZero. */
export function valueEquals(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (a !== null && typeof a === 'object' && typeof (a as Hashable).equals === 'function') return (a as Hashable).equals(b)
  return a !== a && b !== b // NaN equals NaN, as in SameValueZero
}

/** A 32-bit hash of a string, the same formula as java.lang.String.hashCode. */
export function stringHash(text: string): number {
  let hash = 0
  for (let i = 0; i < text.length; i++) hash = (Math.imul(hash, 31) + text.charCodeAt(i)) | 0
  return hash
}

const identityHashes = new WeakMap<object, number>()
let nextIdentityHash = 1

/** A 32-bit hash consistent with valueEquals, for use in hashCode implementations. */
export function hashOf(value: unknown): number {
  switch (typeof value) {
    case 'number':
      if (Number.isInteger(value) && value >= -0x80000000 && value <= 0x7fffffff) return value | 0
      return stringHash(String(value))
    case 'string':
      return stringHash(value)
    case 'boolean':
      return value ? 1231 : 1237
    case 'bigint':
      return stringHash(value.toString())
    case 'undefined':
      return 0
    case 'symbol':
      return stringHash(value.toString())
    case 'function':
    case 'object': {
      if (value === null) return 0
      if (typeof (value as Hashable).hashCode === 'function') return (value as Hashable).hashCode() | 0
      let hash = identityHashes.get(value)
      if (hash === undefined) {
        hash = nextIdentityHash = (Math.imul(nextIdentityHash, 0x9e3779b1) + 1) | 0
        identityHashes.set(value, hash)
      }
      return hash
    }
  }
  return 0
}

/** Combines hashes in order, the way java.util.Arrays.hashCode and List.hashCode do. */
export function combineHashes(hashes: Iterable<number>): number {
  let hash = 1
  for (const h of hashes) hash = (Math.imul(hash, 31) + h) | 0
  return hash
}
