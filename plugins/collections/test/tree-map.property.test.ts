// Model-based tests: random operation sequences run against a TreeMap (and its views) and against
// a sorted-array model; every result must agree. Keys come from a small range so that hits,
// misses and boundary cases are all frequent.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { comparing, IllegalArgumentException, NoSuchElementException, TreeMap } from '../src/index.ts'
import type { Comparator, NavigableMap } from '../src/index.ts'
import { rootOf } from '../src/tree-map.ts'

interface Bounds {
  lo?: number
  loInc: boolean
  hi?: number
  hiInc: boolean
  desc: boolean
}
const FULL: Bounds = { loInc: true, hiInc: true, desc: false }

const inRange = (b: Bounds, k: number) => (b.lo === undefined || k > b.lo || (k === b.lo && b.loInc)) && (b.hi === undefined || k < b.hi || (k === b.hi && b.hiInc))
const inClosed = (b: Bounds, k: number) => (b.lo === undefined || k >= b.lo) && (b.hi === undefined || k <= b.hi)
const boundOk = (b: Bounds, k: number, inc: boolean) => (inc ? inRange(b, k) : inClosed(b, k))

type ViewStep =
  { t: 'head'; to: number; inc: boolean } | { t: 'tail'; from: number; inc: boolean } | { t: 'sub'; from: number; fi: boolean; to: number; ti: boolean } | { t: 'desc' }

/** The bounds after a view step, or 'throws' when Java would refuse the step. */
function step(b: Bounds, s: ViewStep): Bounds | 'throws' {
  switch (s.t) {
    case 'desc':
      return { ...b, desc: !b.desc }
    case 'head':
      if (!boundOk(b, s.to, s.inc)) return 'throws'
      return b.desc ? { ...b, lo: s.to, loInc: s.inc } : { ...b, hi: s.to, hiInc: s.inc }
    case 'tail':
      if (!boundOk(b, s.from, s.inc)) return 'throws'
      return b.desc ? { ...b, hi: s.from, hiInc: s.inc } : { ...b, lo: s.from, loInc: s.inc }
    case 'sub':
      if (b.desc ? s.from < s.to : s.from > s.to) return 'throws'
      if (!boundOk(b, s.from, s.fi) || !boundOk(b, s.to, s.ti)) return 'throws'
      return b.desc ? { ...b, lo: s.to, loInc: s.ti, hi: s.from, hiInc: s.fi } : { ...b, lo: s.from, loInc: s.fi, hi: s.to, hiInc: s.ti }
  }
}

function applyStep<K, V>(m: NavigableMap<K, V>, s: ViewStep, enc: (n: number) => K): NavigableMap<K, V> {
  switch (s.t) {
    case 'desc':
      return m.descendingMap()
    case 'head':
      return m.headMap(enc(s.to), s.inc)
    case 'tail':
      return m.tailMap(enc(s.from), s.inc)
    case 'sub':
      return m.subMap(enc(s.from), s.fi, enc(s.to), s.ti)
  }
}

type Op =
  | { op: 'put'; k: number; v: number }
  | { op: 'remove'; k: number }
  | { op: 'get'; k: number }
  | { op: 'nav'; k: number }
  | { op: 'poll'; last: boolean }
  | { op: 'ends' }
  | { op: 'iterRemove'; mod: number }
  | { op: 'clear' }

const key = fc.integer({ min: 0, max: 40 })
const viewStep: fc.Arbitrary<ViewStep> = fc.oneof(
  fc.record({ t: fc.constant('head' as const), to: key, inc: fc.boolean() }),
  fc.record({ t: fc.constant('tail' as const), from: key, inc: fc.boolean() }),
  fc.record({ t: fc.constant('sub' as const), from: key, fi: fc.boolean(), to: key, ti: fc.boolean() }),
  fc.constant({ t: 'desc' as const }),
)
const op: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ op: fc.constant('put' as const), k: key, v: fc.integer() }), weight: 6 },
  { arbitrary: fc.record({ op: fc.constant('remove' as const), k: key }), weight: 3 },
  { arbitrary: fc.record({ op: fc.constant('get' as const), k: key }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('nav' as const), k: fc.integer({ min: -2, max: 42 }) }), weight: 3 },
  { arbitrary: fc.record({ op: fc.constant('poll' as const), last: fc.boolean() }), weight: 1 },
  { arbitrary: fc.constant({ op: 'ends' as const }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('iterRemove' as const), mod: fc.integer({ min: 2, max: 5 }) }), weight: 1 },
  { arbitrary: fc.constant({ op: 'clear' as const }), weight: 1 },
)
/** Each operation runs on the map itself or on a view reached through a chain of view steps. */
const scenario = fc.array(fc.record({ views: fc.array(viewStep, { maxLength: 3 }), op }), { minLength: 1, maxLength: 60 })

function outcome(fn: () => unknown): unknown {
  try {
    return { ok: fn() }
  } catch (error) {
    if (error instanceof IllegalArgumentException) return 'IllegalArgument'
    if (error instanceof NoSuchElementException) return 'NoSuchElement'
    throw error
  }
}

function run<K>(name: string, enc: (n: number) => K, dec: (k: K) => number, comparator?: Comparator<K>, numRuns = 150) {
  test(`${name}: TreeMap and views agree with a sorted-array model`, () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(key, fc.integer()), { maxLength: 30 }), scenario, (initial, steps) => {
        const map = new TreeMap<K, number>(comparator)
        const model = new Map<number, number>()
        for (const [k, v] of initial) {
          map.put(enc(k), v)
          model.set(k, v)
        }
        for (const { views, op } of steps) {
          // Build the view on both sides; a refused step must be refused by both.
          let bounds: Bounds = FULL
          let view: NavigableMap<K, number> = map
          let refused = false
          for (const s of views) {
            const next = step(bounds, s)
            if (next === 'throws') {
              assert.throws(
                () => applyStep(view, s, enc),
                (e: unknown) => e instanceof IllegalArgumentException,
              )
              refused = true
              break
            }
            bounds = next
            view = applyStep(view, s, enc)
          }
          if (refused) continue

          const ordered = () => {
            const keys = [...model.keys()].filter((k) => inRange(bounds, k)).sort((a, b) => a - b)
            return bounds.desc ? keys.reverse() : keys
          }
          const before = (a: number, b: number) => (bounds.desc ? a > b : a < b)
          const expect = (actual: unknown, expected: unknown, what: string) =>
            assert.equal(actual, expected, `${what} (bounds ${JSON.stringify(bounds)}, op ${JSON.stringify(op)})`)

          switch (op.op) {
            case 'put': {
              const expected = inRange(bounds, op.k) ? { ok: model.get(op.k) } : 'IllegalArgument'
              expect(
                outcome(() => view.put(enc(op.k), op.v)),
                expected,
                'put',
              )
              if (inRange(bounds, op.k)) model.set(op.k, op.v)
              break
            }
            case 'remove': {
              const expected = inRange(bounds, op.k) ? model.get(op.k) : undefined
              expect(view.remove(enc(op.k)), expected, 'remove')
              if (inRange(bounds, op.k)) model.delete(op.k)
              break
            }
            case 'get':
              expect(view.get(enc(op.k)), inRange(bounds, op.k) ? model.get(op.k) : undefined, 'get')
              expect(view.containsKey(enc(op.k)), inRange(bounds, op.k) && model.has(op.k), 'containsKey')
              break
            case 'nav': {
              const keys = ordered()
              const k = op.k
              const dk = (x: K | undefined) => (x === undefined ? undefined : dec(x))
              expect(dk(view.floorKey(enc(k))), keys.filter((e) => !before(k, e)).at(-1), 'floorKey')
              expect(dk(view.lowerKey(enc(k))), keys.filter((e) => before(e, k)).at(-1), 'lowerKey')
              expect(
                dk(view.ceilingKey(enc(k))),
                keys.find((e) => !before(e, k)),
                'ceilingKey',
              )
              expect(
                dk(view.higherKey(enc(k))),
                keys.find((e) => before(k, e)),
                'higherKey',
              )
              const ce = view.ceilingEntry(enc(k))
              const expectedKey = keys.find((e) => !before(e, k))
              expect(ce && { key: dec(ce.key), value: ce.value }, expectedKey === undefined ? undefined : { key: expectedKey, value: model.get(expectedKey) }, 'ceilingEntry')
              break
            }
            case 'poll': {
              const keys = ordered()
              const target = op.last ? keys.at(-1) : keys[0]
              const entry = op.last ? view.pollLastEntry() : view.pollFirstEntry()
              expect(entry && { key: dec(entry.key), value: entry.value }, target === undefined ? undefined : { key: target, value: model.get(target) }, 'poll')
              if (target !== undefined) model.delete(target)
              break
            }
            case 'ends': {
              const keys = ordered()
              expect(
                outcome(() => dec(view.firstKey())),
                keys.length ? { ok: keys[0] } : 'NoSuchElement',
                'firstKey',
              )
              expect(
                outcome(() => dec(view.lastKey())),
                keys.length ? { ok: keys.at(-1) } : 'NoSuchElement',
                'lastKey',
              )
              expect(view.size(), keys.length, 'size')
              expect(view.isEmpty(), keys.length === 0, 'isEmpty')
              expect([...view.descendingKeySet()].map(dec), [...keys].reverse(), 'descendingKeySet')
              break
            }
            case 'iterRemove': {
              const it = view.entryIterator()
              const seen: number[] = []
              while (it.hasNext()) {
                const k = dec(it.next().key)
                seen.push(k)
                if (k % op.mod === 0) {
                  it.remove()
                  model.delete(k)
                }
              }
              const remaining = [...model.keys()].filter((k) => inRange(bounds, k))
              expect(seen.length, seen.length, 'seen')
              expect(seen.filter((k) => k % op.mod !== 0).length, remaining.length, 'iterator visited every key once')
              break
            }
            case 'clear':
              view.clear()
              for (const k of [...model.keys()]) if (inRange(bounds, k)) model.delete(k)
              break
          }
          // Full comparison after every operation: contents, order and size of the view and the map.
          expect(
            [...view].map(([k, v]) => [dec(k), v]),
            ordered().map((k) => [k, model.get(k)]),
            'view contents',
          )
          expect(map.size(), model.size, 'map size')
        }
        const all = [...model.keys()].sort((a, b) => a - b)
        assert.equal([...map.keys()].map(dec), all)
        assert.equal([...map.descendingMap().keys()].map(dec), [...all].reverse())
        checkRedBlack(map)
      }),
      { numRuns },
    )
  })
}

/** Red-black invariants: black root, no red node with a red child, equal black heights, parent links. */
function checkRedBlack<K, V>(map: TreeMap<K, V>): void {
  type N = { left: N | null; right: N | null; parent: N | null; red: boolean }
  const root = rootOf(map) as N | null
  if (root === null) return
  assert.is(root.red, false, 'root is black')
  const height = (n: N | null, parent: N | null): number => {
    if (n === null) return 1
    assert.is(n.parent, parent, 'parent link')
    if (n.red) assert.ok(!n.left?.red && !n.right?.red, 'red node has black children')
    const l = height(n.left, n)
    const r = height(n.right, n)
    assert.is(l, r, 'equal black heights')
    return l + (n.red ? 0 : 1)
  }
  height(root, null)
}

run(
  'number keys, natural order',
  (n) => n,
  (k) => k,
  undefined,
  500,
)
run(
  'string keys, natural order',
  (n) => String(n).padStart(3, '0'),
  (k) => Number(k),
  undefined,
  300,
)
run(
  'object keys, comparator',
  (n) => ({ n }),
  (k) => k.n,
  comparing((k: { n: number }) => k.n),
  200,
)

test('large random workload keeps red-black invariants', () => {
  const map = new TreeMap<number, number>()
  const model = new Map<number, number>()
  let seed = 7
  const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff) % 2000
  for (let i = 0; i < 20000; i++) {
    const k = rand()
    if (i % 3 === 2) {
      map.remove(k)
      model.delete(k)
    } else {
      map.put(k, i)
      model.set(k, i)
    }
  }
  checkRedBlack(map)
  assert.equal(
    [...map.keys()],
    [...model.keys()].sort((a, b) => a - b),
  )
})

test.run()
