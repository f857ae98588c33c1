// A sorted map on a red-black tree, as java.util.TreeMap: O(log n) get/put/remove and navigation
// (floor, ceiling, higher, lower), with headMap/tailMap/subMap/descendingMap as live views.
//
// Speed notes. Nodes are instances of one class, so every property access sees one hidden class.
// With natural order and keys that are all numbers (or all strings), lookups compare with `<`
// directly instead of calling the comparator; the first key decides, and a key of another kind
// switches the map to the comparator for good (until clear()).
import { AbstractMap } from './abstract-map.ts'
import { isNaturalOrder, naturalOrder, reversed, type Comparator } from './comparator.ts'
import { ConcurrentModificationException, IllegalArgumentException, IllegalStateException, NoSuchElementException, describe } from './errors.ts'
import type { Iterator, MapEntry, NavigableMap, NavigableSet } from './interfaces.ts'
import { TreeSet } from './tree-set.ts'

/** @internal */
export class TreeNode<K, V> {
  // Declared, then assigned in one constructor in a fixed order: every node gets the same hidden
  // class without the extra define-as-undefined step of initialised class fields.
  declare key: K
  declare value: V
  declare left: TreeNode<K, V> | null
  declare right: TreeNode<K, V> | null
  declare parent: TreeNode<K, V> | null
  declare red: boolean
  constructor(key: K, value: V, parent: TreeNode<K, V> | null) {
    this.key = key
    this.value = value
    this.left = null
    this.right = null
    this.parent = parent
    this.red = false
  }
}

type Node<K, V> = TreeNode<K, V> | null

const KIND_UNDECIDED = -1
const KIND_COMPARATOR = 0
const KIND_NUMBER = 1
const KIND_STRING = 2

// `<` on two numbers or two strings; generic keys are cast for it.
type Primitive = number

function successor<K, V>(t: TreeNode<K, V>): Node<K, V> {
  if (t.right !== null) {
    let p = t.right
    while (p.left !== null) p = p.left
    return p
  }
  let p = t.parent
  let ch = t
  while (p !== null && ch === p.right) {
    ch = p
    p = p.parent
  }
  return p
}

function predecessor<K, V>(t: TreeNode<K, V>): Node<K, V> {
  if (t.left !== null) {
    let p = t.left
    while (p.right !== null) p = p.right
    return p
  }
  let p = t.parent
  let ch = t
  while (p !== null && ch === p.left) {
    ch = p
    p = p.parent
  }
  return p
}

const isRed = (node: Node<unknown, unknown>): boolean => node !== null && node.red

function snapshot<K, V>(node: Node<K, V>): MapEntry<K, V> | undefined {
  return node === null ? undefined : { key: node.key, value: node.value }
}

/** A map's root node, for the tests that check the red-black invariants; not exported by the package. */
export let rootOf: <K, V>(map: TreeMap<K, V>) => Node<K, V>

export class TreeMap<K, V> extends AbstractMap<K, V> implements NavigableMap<K, V> {
  static {
    rootOf = (map) => map.#root
  }
  #root: Node<K, V> = null
  #count = 0
  /** Counts structural changes; iterators compare it to detect concurrent modification. */
  modCount = 0
  /** @internal */
  readonly compare: Comparator<K>
  readonly #natural: boolean
  /** Which `<` fast path applies: see the KIND_ constants. */
  #kind: number

  constructor(comparator?: Comparator<K> | null, entries?: Iterable<readonly [K, V]> | null) {
    super()
    this.#natural = isNaturalOrder(comparator)
    this.compare = comparator ?? naturalOrder<K>()
    this.#kind = this.#natural ? KIND_UNDECIDED : KIND_COMPARATOR
    if (entries) for (const [key, value] of entries) this.put(key, value)
  }

  /** A TreeMap with the entries of a native Map (or any iterable of pairs). */
  static from<K, V>(entries: Iterable<readonly [K, V]>, comparator?: Comparator<K>): TreeMap<K, V> {
    return new TreeMap(comparator, entries)
  }

  comparator(): Comparator<K> {
    return this.compare
  }

  size(): number {
    return this.#count
  }

  isEmpty(): boolean {
    return this.#count === 0
  }

  /** True when `key` may be compared with `<` against every key in the tree. */
  #fast(key: K): boolean {
    const kind = this.#kind
    if (kind === KIND_NUMBER) return typeof key === 'number' && key === key // NaN excluded
    return kind === KIND_STRING && typeof key === 'string'
  }

  /** Updates the fast-path kind for a key about to be inserted. */
  #admit(key: K): void {
    const kind = this.#kind
    if (kind === KIND_COMPARATOR) return
    const keyKind = typeof key === 'number' && key === key ? KIND_NUMBER : typeof key === 'string' ? KIND_STRING : KIND_COMPARATOR
    if (kind === KIND_UNDECIDED) this.#kind = keyKind
    else if (kind !== keyKind) this.#kind = KIND_COMPARATOR
  }

  // ---- lookups ----

  /** @internal */
  getNode(key: K): Node<K, V> {
    let p = this.#root
    if (this.#fast(key)) {
      const k = key as unknown as Primitive
      while (p !== null) {
        const pk = p.key as unknown as Primitive
        if (k < pk) p = p.left
        else if (k > pk) p = p.right
        else return p
      }
      return null
    }
    const compare = this.compare
    while (p !== null) {
      const c = compare(key, p.key)
      if (c < 0) p = p.left
      else if (c > 0) p = p.right
      else return p
    }
    return null
  }

  /** Least node with key >= `key`. @internal */
  ceilingNode(key: K): Node<K, V> {
    let p = this.#root
    let best: Node<K, V> = null
    if (this.#fast(key)) {
      const k = key as unknown as Primitive
      while (p !== null) {
        const pk = p.key as unknown as Primitive
        if (k < pk) {
          best = p
          p = p.left
        } else if (k > pk) p = p.right
        else return p
      }
      return best
    }
    const compare = this.compare
    while (p !== null) {
      const c = compare(key, p.key)
      if (c < 0) {
        best = p
        p = p.left
      } else if (c > 0) p = p.right
      else return p
    }
    return best
  }

  /** Greatest node with key <= `key`. @internal */
  floorNode(key: K): Node<K, V> {
    let p = this.#root
    let best: Node<K, V> = null
    if (this.#fast(key)) {
      const k = key as unknown as Primitive
      while (p !== null) {
        const pk = p.key as unknown as Primitive
        if (k > pk) {
          best = p
          p = p.right
        } else if (k < pk) p = p.left
        else return p
      }
      return best
    }
    const compare = this.compare
    while (p !== null) {
      const c = compare(key, p.key)
      if (c > 0) {
        best = p
        p = p.right
      } else if (c < 0) p = p.left
      else return p
    }
    return best
  }

  /** Least node with key > `key`. @internal */
  higherNode(key: K): Node<K, V> {
    let p = this.#root
    let best: Node<K, V> = null
    if (this.#fast(key)) {
      const k = key as unknown as Primitive
      while (p !== null) {
        if (k < (p.key as unknown as Primitive)) {
          best = p
          p = p.left
        } else p = p.right
      }
      return best
    }
    const compare = this.compare
    while (p !== null) {
      if (compare(key, p.key) < 0) {
        best = p
        p = p.left
      } else p = p.right
    }
    return best
  }

  /** Greatest node with key < `key`. @internal */
  lowerNode(key: K): Node<K, V> {
    let p = this.#root
    let best: Node<K, V> = null
    if (this.#fast(key)) {
      const k = key as unknown as Primitive
      while (p !== null) {
        if (k > (p.key as unknown as Primitive)) {
          best = p
          p = p.right
        } else p = p.left
      }
      return best
    }
    const compare = this.compare
    while (p !== null) {
      if (compare(key, p.key) > 0) {
        best = p
        p = p.right
      } else p = p.left
    }
    return best
  }

  /** @internal */
  firstNode(): Node<K, V> {
    let p = this.#root
    if (p !== null) while (p.left !== null) p = p.left
    return p
  }

  /** @internal */
  lastNode(): Node<K, V> {
    let p = this.#root
    if (p !== null) while (p.right !== null) p = p.right
    return p
  }

  get(key: K): V | undefined {
    const node = this.getNode(key)
    return node === null ? undefined : node.value
  }

  containsKey(key: K): boolean {
    return this.getNode(key) !== null
  }

  // ---- insertion ----

  put(key: K, value: V): V | undefined {
    let t = this.#root
    if (t === null) {
      if (this.#natural) this.compare(key, key) // throws early for keys natural order cannot compare
      this.#admit(key)
      this.#root = new TreeNode(key, value, null)
      this.#count = 1
      this.modCount++
      return undefined
    }
    let parent: TreeNode<K, V>
    let goLeft: boolean
    if (this.#fast(key)) {
      const k = key as unknown as Primitive
      do {
        parent = t
        const pk = t.key as unknown as Primitive
        if (k < pk) {
          goLeft = true
          t = t.left
        } else if (k > pk) {
          goLeft = false
          t = t.right
        } else {
          const previous = t.value
          t.value = value
          return previous
        }
      } while (t !== null)
    } else {
      const compare = this.compare
      do {
        parent = t
        const c = compare(key, t.key)
        if (c < 0) {
          goLeft = true
          t = t.left
        } else if (c > 0) {
          goLeft = false
          t = t.right
        } else {
          const previous = t.value
          t.value = value
          return previous
        }
      } while (t !== null)
      this.#admit(key)
    }
    const node = new TreeNode(key, value, parent)
    if (goLeft) parent.left = node
    else parent.right = node
    this.#fixAfterInsertion(node)
    this.#count++
    this.modCount++
    return undefined
  }

  #rotateLeft(p: TreeNode<K, V>): void {
    const r = p.right!
    p.right = r.left
    if (r.left !== null) r.left.parent = p
    r.parent = p.parent
    if (p.parent === null) this.#root = r
    else if (p.parent.left === p) p.parent.left = r
    else p.parent.right = r
    r.left = p
    p.parent = r
  }

  #rotateRight(p: TreeNode<K, V>): void {
    const l = p.left!
    p.left = l.right
    if (l.right !== null) l.right.parent = p
    l.parent = p.parent
    if (p.parent === null) this.#root = l
    else if (p.parent.right === p) p.parent.right = l
    else p.parent.left = l
    l.right = p
    p.parent = l
  }

  // Insertion and deletion fix-ups follow Cormen et al., as java.util.TreeMap does.
  #fixAfterInsertion(x: TreeNode<K, V>): void {
    x.red = true
    while (x !== this.#root && x.parent!.red) {
      const parent = x.parent!
      const grand = parent.parent!
      if (parent === grand.left) {
        const uncle = grand.right
        if (uncle !== null && uncle.red) {
          parent.red = false
          uncle.red = false
          grand.red = true
          x = grand
        } else {
          if (x === parent.right) {
            x = parent
            this.#rotateLeft(x)
          }
          x.parent!.red = false
          x.parent!.parent!.red = true
          this.#rotateRight(x.parent!.parent!)
        }
      } else {
        const uncle = grand.left
        if (uncle !== null && uncle.red) {
          parent.red = false
          uncle.red = false
          grand.red = true
          x = grand
        } else {
          if (x === parent.left) {
            x = parent
            this.#rotateRight(x)
          }
          x.parent!.red = false
          x.parent!.parent!.red = true
          this.#rotateLeft(x.parent!.parent!)
        }
      }
    }
    this.#root!.red = false
  }

  // ---- deletion ----

  /**
   * Unlinks `p`. A node with two children takes its successor's key and value and the successor
   * node is unlinked instead - iterators account for that.
   * @internal
   */
  deleteNode(p: TreeNode<K, V>): void {
    this.modCount++
    this.#count--
    if (p.left !== null && p.right !== null) {
      const s = successor(p)!
      p.key = s.key
      p.value = s.value
      p = s
    }
    const replacement = p.left !== null ? p.left : p.right
    if (replacement !== null) {
      replacement.parent = p.parent
      if (p.parent === null) this.#root = replacement
      else if (p === p.parent.left) p.parent.left = replacement
      else p.parent.right = replacement
      p.left = p.right = p.parent = null
      if (!p.red) this.#fixAfterDeletion(replacement)
    } else if (p.parent === null) {
      this.#root = null
    } else {
      if (!p.red) this.#fixAfterDeletion(p)
      if (p.parent !== null) {
        if (p === p.parent.left) p.parent.left = null
        else if (p === p.parent.right) p.parent.right = null
        p.parent = null
      }
    }
  }

  #fixAfterDeletion(x: TreeNode<K, V>): void {
    while (x !== this.#root && !x.red) {
      const parent = x.parent!
      if (x === parent.left) {
        let sib = parent.right!
        if (sib.red) {
          sib.red = false
          parent.red = true
          this.#rotateLeft(parent)
          sib = x.parent!.right!
        }
        if (!isRed(sib.left) && !isRed(sib.right)) {
          sib.red = true
          x = x.parent!
        } else {
          if (!isRed(sib.right)) {
            sib.left!.red = false
            sib.red = true
            this.#rotateRight(sib)
            sib = x.parent!.right!
          }
          sib.red = x.parent!.red
          x.parent!.red = false
          sib.right!.red = false
          this.#rotateLeft(x.parent!)
          x = this.#root!
        }
      } else {
        let sib = parent.left!
        if (sib.red) {
          sib.red = false
          parent.red = true
          this.#rotateRight(parent)
          sib = x.parent!.left!
        }
        if (!isRed(sib.right) && !isRed(sib.left)) {
          sib.red = true
          x = x.parent!
        } else {
          if (!isRed(sib.left)) {
            sib.right!.red = false
            sib.red = true
            this.#rotateLeft(sib)
            sib = x.parent!.left!
          }
          sib.red = x.parent!.red
          x.parent!.red = false
          sib.left!.red = false
          this.#rotateRight(x.parent!)
          x = this.#root!
        }
      }
    }
    x.red = false
  }

  remove(key: K): V | undefined {
    const node = this.getNode(key)
    if (node === null) return undefined
    const value = node.value
    this.deleteNode(node)
    return value
  }

  clear(): void {
    this.#root = null
    this.#count = 0
    this.modCount++
    this.#kind = this.#natural ? KIND_UNDECIDED : KIND_COMPARATOR
  }

  // ---- navigation ----

  firstKey(): K {
    const node = this.firstNode()
    if (node === null) throw new NoSuchElementException('map is empty')
    return node.key
  }
  lastKey(): K {
    const node = this.lastNode()
    if (node === null) throw new NoSuchElementException('map is empty')
    return node.key
  }
  firstEntry(): MapEntry<K, V> | undefined {
    return snapshot(this.firstNode())
  }
  lastEntry(): MapEntry<K, V> | undefined {
    return snapshot(this.lastNode())
  }
  pollFirstEntry(): MapEntry<K, V> | undefined {
    const node = this.firstNode()
    const entry = snapshot(node)
    if (node !== null) this.deleteNode(node)
    return entry
  }
  pollLastEntry(): MapEntry<K, V> | undefined {
    const node = this.lastNode()
    const entry = snapshot(node)
    if (node !== null) this.deleteNode(node)
    return entry
  }
  lowerEntry(key: K): MapEntry<K, V> | undefined {
    return snapshot(this.lowerNode(key))
  }
  lowerKey(key: K): K | undefined {
    const node = this.lowerNode(key)
    return node === null ? undefined : node.key
  }
  floorEntry(key: K): MapEntry<K, V> | undefined {
    return snapshot(this.floorNode(key))
  }
  floorKey(key: K): K | undefined {
    const node = this.floorNode(key)
    return node === null ? undefined : node.key
  }
  ceilingEntry(key: K): MapEntry<K, V> | undefined {
    return snapshot(this.ceilingNode(key))
  }
  ceilingKey(key: K): K | undefined {
    const node = this.ceilingNode(key)
    return node === null ? undefined : node.key
  }
  higherEntry(key: K): MapEntry<K, V> | undefined {
    return snapshot(this.higherNode(key))
  }
  higherKey(key: K): K | undefined {
    const node = this.higherNode(key)
    return node === null ? undefined : node.key
  }

  // ---- views ----

  descendingMap(): NavigableMap<K, V> {
    return new TreeMapView(this, true, undefined, true, true, undefined, true, true)
  }

  navigableKeySet(): NavigableSet<K> {
    return TreeSet.keySetOf(this)
  }

  keySet(): NavigableSet<K> {
    return this.navigableKeySet()
  }

  descendingKeySet(): NavigableSet<K> {
    return TreeSet.keySetOf(this.descendingMap())
  }

  /** Keys below `toKey` (or up to it when `inclusive`); a live view. */
  headMap(toKey: K, inclusive = false): NavigableMap<K, V> {
    this.compare(toKey, toKey)
    return new TreeMapView(this, true, undefined, true, false, toKey, inclusive, false)
  }

  /** Keys from `fromKey` on (inclusive by default); a live view. */
  tailMap(fromKey: K, inclusive = true): NavigableMap<K, V> {
    this.compare(fromKey, fromKey)
    return new TreeMapView(this, false, fromKey, inclusive, true, undefined, true, false)
  }

  /** `subMap(from, to)` is [from, to); the four-argument form chooses each bound's inclusiveness. */
  subMap(fromKey: K, toKey: K): NavigableMap<K, V>
  subMap(fromKey: K, fromInclusive: boolean, toKey: K, toInclusive: boolean): NavigableMap<K, V>
  subMap(fromKey: K, a: K | boolean, b?: K, c?: boolean): NavigableMap<K, V> {
    const [fromInclusive, toKey, toInclusive] = arguments.length <= 2 ? [true, a as K, false] : [a as boolean, b as K, c as boolean]
    if (this.compare(fromKey, toKey) > 0) throw new IllegalArgumentException(`fromKey ${describe(fromKey)} > toKey ${describe(toKey)}`)
    return new TreeMapView(this, false, fromKey, fromInclusive, false, toKey, toInclusive, false)
  }

  // ---- iteration ----

  *[Symbol.iterator](): IterableIterator<[K, V]> {
    const expected = this.modCount
    for (let node = this.firstNode(); node !== null; node = successor(node)) {
      if (this.modCount !== expected) throw new ConcurrentModificationException()
      yield [node.key, node.value]
    }
    if (this.modCount !== expected) throw new ConcurrentModificationException()
  }

  entryIterator(): Iterator<MapEntry<K, V>> {
    return new TreeIterator(this, this.firstNode(), false, null)
  }

  /** The key-value pairs in descending key order. */
  descendingEntries(): IterableIterator<[K, V]> {
    return this.descendingMap()[Symbol.iterator]()
  }
}

/**
 * A live range and/or descending view of a TreeMap, as Java's NavigableSubMap. Bounds are kept as
 * absolute (ascending) positions; `descending` flips which end each navigation method reads.
 */
class TreeMapView<K, V> extends AbstractMap<K, V> implements NavigableMap<K, V> {
  readonly #m: TreeMap<K, V>
  readonly #fromStart: boolean
  readonly #lo: K | undefined
  readonly #loInclusive: boolean
  readonly #toEnd: boolean
  readonly #hi: K | undefined
  readonly #hiInclusive: boolean
  readonly #descending: boolean
  constructor(m: TreeMap<K, V>, fromStart: boolean, lo: K | undefined, loInclusive: boolean, toEnd: boolean, hi: K | undefined, hiInclusive: boolean, descending: boolean) {
    super()
    this.#m = m
    this.#fromStart = fromStart
    this.#lo = lo
    this.#loInclusive = loInclusive
    this.#toEnd = toEnd
    this.#hi = hi
    this.#hiInclusive = hiInclusive
    this.#descending = descending
    if (!fromStart && !toEnd && m.compare(lo as K, hi as K) > 0) throw new IllegalArgumentException(`fromKey ${describe(lo)} > toKey ${describe(hi)}`)
  }

  // ---- range checks ----

  /** @internal */
  tooLow(key: K): boolean {
    if (this.#fromStart) return false
    const c = this.#m.compare(key, this.#lo as K)
    return c < 0 || (c === 0 && !this.#loInclusive)
  }

  /** @internal */
  tooHigh(key: K): boolean {
    if (this.#toEnd) return false
    const c = this.#m.compare(key, this.#hi as K)
    return c > 0 || (c === 0 && !this.#hiInclusive)
  }

  #inRange(key: K): boolean {
    return !this.tooLow(key) && !this.tooHigh(key)
  }

  /** Whether a new view bound at `key` lies within this view (closed range when not inclusive). */
  #boundInRange(key: K, inclusive: boolean): boolean {
    if (inclusive) return this.#inRange(key)
    const m = this.#m
    return (this.#fromStart || m.compare(key, this.#lo as K) >= 0) && (this.#toEnd || m.compare(this.#hi as K, key) >= 0)
  }

  #checkBound(key: K, inclusive: boolean, name: string): void {
    if (!this.#boundInRange(key, inclusive)) throw new IllegalArgumentException(`${name} ${describe(key)} out of range`)
  }

  // ---- absolute (ascending) navigation within the range ----

  /** @internal */
  absLowest(): Node<K, V> {
    const m = this.#m
    const e = this.#fromStart ? m.firstNode() : this.#loInclusive ? m.ceilingNode(this.#lo as K) : m.higherNode(this.#lo as K)
    return e === null || this.tooHigh(e.key) ? null : e
  }
  /** @internal */
  absHighest(): Node<K, V> {
    const m = this.#m
    const e = this.#toEnd ? m.lastNode() : this.#hiInclusive ? m.floorNode(this.#hi as K) : m.lowerNode(this.#hi as K)
    return e === null || this.tooLow(e.key) ? null : e
  }
  #absCeiling(key: K): Node<K, V> {
    if (this.tooLow(key)) return this.absLowest()
    const e = this.#m.ceilingNode(key)
    return e === null || this.tooHigh(e.key) ? null : e
  }
  #absHigher(key: K): Node<K, V> {
    if (this.tooLow(key)) return this.absLowest()
    const e = this.#m.higherNode(key)
    return e === null || this.tooHigh(e.key) ? null : e
  }
  #absFloor(key: K): Node<K, V> {
    if (this.tooHigh(key)) return this.absHighest()
    const e = this.#m.floorNode(key)
    return e === null || this.tooLow(e.key) ? null : e
  }
  #absLower(key: K): Node<K, V> {
    if (this.tooHigh(key)) return this.absHighest()
    const e = this.#m.lowerNode(key)
    return e === null || this.tooLow(e.key) ? null : e
  }

  // ---- view-relative navigation ----

  #firstNode(): Node<K, V> {
    return this.#descending ? this.absHighest() : this.absLowest()
  }
  #lastNode(): Node<K, V> {
    return this.#descending ? this.absLowest() : this.absHighest()
  }
  #ceilingNode(key: K): Node<K, V> {
    return this.#descending ? this.#absFloor(key) : this.#absCeiling(key)
  }
  #floorNode(key: K): Node<K, V> {
    return this.#descending ? this.#absCeiling(key) : this.#absFloor(key)
  }
  #higherNode(key: K): Node<K, V> {
    return this.#descending ? this.#absLower(key) : this.#absHigher(key)
  }
  #lowerNode(key: K): Node<K, V> {
    return this.#descending ? this.#absHigher(key) : this.#absLower(key)
  }

  comparator(): Comparator<K> {
    return this.#descending ? reversed(this.#m.compare) : this.#m.compare
  }

  size(): number {
    let n = 0
    const it = this.entryIterator()
    while (it.hasNext()) {
      it.next()
      n++
    }
    return n
  }

  isEmpty(): boolean {
    return this.absLowest() === null
  }

  get(key: K): V | undefined {
    return this.#inRange(key) ? this.#m.get(key) : undefined
  }

  containsKey(key: K): boolean {
    return this.#inRange(key) && this.#m.containsKey(key)
  }

  put(key: K, value: V): V | undefined {
    if (!this.#inRange(key)) throw new IllegalArgumentException(`key ${describe(key)} out of range`)
    return this.#m.put(key, value)
  }

  remove(key: K): V | undefined {
    return this.#inRange(key) ? this.#m.remove(key) : undefined
  }

  clear(): void {
    const it = this.entryIterator()
    while (it.hasNext()) {
      it.next()
      it.remove()
    }
  }

  firstKey(): K {
    const node = this.#firstNode()
    if (node === null) throw new NoSuchElementException('map is empty')
    return node.key
  }
  lastKey(): K {
    const node = this.#lastNode()
    if (node === null) throw new NoSuchElementException('map is empty')
    return node.key
  }
  firstEntry(): MapEntry<K, V> | undefined {
    return snapshot(this.#firstNode())
  }
  lastEntry(): MapEntry<K, V> | undefined {
    return snapshot(this.#lastNode())
  }
  pollFirstEntry(): MapEntry<K, V> | undefined {
    const node = this.#firstNode()
    const entry = snapshot(node)
    if (node !== null) this.#m.deleteNode(node)
    return entry
  }
  pollLastEntry(): MapEntry<K, V> | undefined {
    const node = this.#lastNode()
    const entry = snapshot(node)
    if (node !== null) this.#m.deleteNode(node)
    return entry
  }
  lowerEntry(key: K): MapEntry<K, V> | undefined {
    return snapshot(this.#lowerNode(key))
  }
  lowerKey(key: K): K | undefined {
    return this.#lowerNode(key)?.key
  }
  floorEntry(key: K): MapEntry<K, V> | undefined {
    return snapshot(this.#floorNode(key))
  }
  floorKey(key: K): K | undefined {
    return this.#floorNode(key)?.key
  }
  ceilingEntry(key: K): MapEntry<K, V> | undefined {
    return snapshot(this.#ceilingNode(key))
  }
  ceilingKey(key: K): K | undefined {
    return this.#ceilingNode(key)?.key
  }
  higherEntry(key: K): MapEntry<K, V> | undefined {
    return snapshot(this.#higherNode(key))
  }
  higherKey(key: K): K | undefined {
    return this.#higherNode(key)?.key
  }

  descendingMap(): NavigableMap<K, V> {
    return new TreeMapView(this.#m, this.#fromStart, this.#lo, this.#loInclusive, this.#toEnd, this.#hi, this.#hiInclusive, !this.#descending)
  }

  navigableKeySet(): NavigableSet<K> {
    return TreeSet.keySetOf(this)
  }

  keySet(): NavigableSet<K> {
    return this.navigableKeySet()
  }

  descendingKeySet(): NavigableSet<K> {
    return TreeSet.keySetOf(this.descendingMap())
  }

  headMap(toKey: K, inclusive = false): NavigableMap<K, V> {
    this.#checkBound(toKey, inclusive, 'toKey')
    return this.#descending
      ? new TreeMapView(this.#m, false, toKey, inclusive, this.#toEnd, this.#hi, this.#hiInclusive, true)
      : new TreeMapView(this.#m, this.#fromStart, this.#lo, this.#loInclusive, false, toKey, inclusive, false)
  }

  tailMap(fromKey: K, inclusive = true): NavigableMap<K, V> {
    this.#checkBound(fromKey, inclusive, 'fromKey')
    return this.#descending
      ? new TreeMapView(this.#m, this.#fromStart, this.#lo, this.#loInclusive, false, fromKey, inclusive, true)
      : new TreeMapView(this.#m, false, fromKey, inclusive, this.#toEnd, this.#hi, this.#hiInclusive, false)
  }

  subMap(fromKey: K, toKey: K): NavigableMap<K, V>
  subMap(fromKey: K, fromInclusive: boolean, toKey: K, toInclusive: boolean): NavigableMap<K, V>
  subMap(fromKey: K, a: K | boolean, b?: K, c?: boolean): NavigableMap<K, V> {
    const [fromInclusive, toKey, toInclusive] = arguments.length <= 2 ? [true, a as K, false] : [a as boolean, b as K, c as boolean]
    if (this.comparator()(fromKey, toKey) > 0) throw new IllegalArgumentException(`fromKey ${describe(fromKey)} > toKey ${describe(toKey)}`)
    this.#checkBound(fromKey, fromInclusive, 'fromKey')
    this.#checkBound(toKey, toInclusive, 'toKey')
    return this.#descending
      ? new TreeMapView(this.#m, false, toKey, toInclusive, false, fromKey, fromInclusive, true)
      : new TreeMapView(this.#m, false, fromKey, fromInclusive, false, toKey, toInclusive, false)
  }

  entryIterator(): Iterator<MapEntry<K, V>> {
    return new TreeIterator(this.#m, this.#firstNode(), this.#descending, this)
  }

  *[Symbol.iterator](): IterableIterator<[K, V]> {
    const it = this.entryIterator()
    while (it.hasNext()) {
      const entry = it.next()
      yield [entry.key, entry.value]
    }
  }
}

/** Fail-fast in-order (or reverse-order) walk, optionally stopping at a view's bound. */
class TreeIterator<K, V> implements Iterator<MapEntry<K, V>> {
  #last: Node<K, V> = null
  #expected: number

  readonly #map: TreeMap<K, V>
  #nextNode: Node<K, V>
  readonly #descending: boolean
  readonly #view: TreeMapView<K, V> | null
  constructor(map: TreeMap<K, V>, nextNode: Node<K, V>, descending: boolean, view: TreeMapView<K, V> | null) {
    this.#map = map
    this.#nextNode = nextNode
    this.#descending = descending
    this.#view = view
    this.#expected = map.modCount
  }

  hasNext(): boolean {
    return this.#nextNode !== null
  }

  #advance(from: TreeNode<K, V>): Node<K, V> {
    const view = this.#view
    if (this.#descending) {
      const node = predecessor(from)
      return node === null || (view !== null && view.tooLow(node.key)) ? null : node
    }
    const node = successor(from)
    return node === null || (view !== null && view.tooHigh(node.key)) ? null : node
  }

  next(): MapEntry<K, V> {
    if (this.#map.modCount !== this.#expected) throw new ConcurrentModificationException()
    const node = this.#nextNode
    if (node === null) throw new NoSuchElementException('iteration has no more elements')
    this.#last = node
    this.#nextNode = this.#advance(node)
    return { key: node.key, value: node.value }
  }

  remove(): void {
    const last = this.#last
    if (last === null) throw new IllegalStateException('remove() requires a preceding next()')
    if (this.#map.modCount !== this.#expected) throw new ConcurrentModificationException()
    // Deleting a node with two children moves its successor's entry into it: in ascending order
    // that entry is the next one to return, now living in `last`.
    if (!this.#descending && this.#nextNode !== null && last.left !== null && last.right !== null) this.#nextNode = last
    this.#map.deleteNode(last)
    this.#last = null
    this.#expected = this.#map.modCount
  }
}
