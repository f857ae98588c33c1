// Side-by-side throughput of the collections against js-sdsl, mnemonist and native arrays, on
// identical inputs in one process. Prints a markdown table: ops/s (best of several rounds) and the
// ratio to the fastest competitor in each scenario (>1 means faster than every competitor).
//
//   node --import tsx bench/collections/run.ts [--rounds 5] [--n 1000000]
import { cpus, platform, release, totalmem } from 'node:os'
import { Deque as SdslDeque, HashMap as SdslHashMap, OrderedMap, PriorityQueue as SdslPriorityQueue } from 'js-sdsl'
import { Heap as MnemonistHeap } from 'mnemonist'
import { ArrayDeque, HashMap, PriorityQueue, TreeMap, seededRandomForBench } from './inputs.ts'

const args = process.argv.slice(2)
const option = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`)
  return i >= 0 ? Number(args[i + 1]) : fallback
}
const N = option('n', 1_000_000)
const ROUNDS = option('rounds', 5)

// ---- inputs, shared by every implementation ----
const random = seededRandomForBench(42)
const keys = Array.from({ length: N }, (_, i) => i * 2) // even keys; odd probes land between them
for (let i = N - 1; i > 0; i--) {
  const j = Math.floor(random() * (i + 1))
  const t = keys[i]!
  keys[i] = keys[j]!
  keys[j] = t
}
const probes = keys.map((k) => k + 1) // floor(k + 1) === k: every floor query hits a gap
const priorities = Array.from({ length: N }, () => Math.floor(random() * N))

class Point {
  constructor(
    readonly x: number,
    readonly y: number,
  ) {}
  equals(other: unknown): boolean {
    return other instanceof Point && other.x === this.x && other.y === this.y
  }
  hashCode(): number {
    return (Math.imul(this.x, 31) + this.y) | 0
  }
}
const HASH_N = Math.min(N, 1_000_000)
const points = Array.from({ length: HASH_N }, (_, i) => new Point(i % 1000, Math.floor(i / 1000)))
// Equal but distinct instances: only value equality finds them.
const lookups = points.map((p) => new Point(p.x, p.y))

let sink = 0 // consumed results, so no work is optimised away

interface Case {
  name: string
  ops: number
  run: () => void
  /** Measured once without warm-up: for baselines too slow to repeat (quadratic Array#shift). */
  once?: boolean
}
interface Scenario {
  title: string
  ours: string
  cases: Case[]
  /** Scenarios with a target: ours should be at least as fast as the fastest competitor. */
  goal: boolean
}

const scenarios: Scenario[] = [
  {
    title: `TreeMap put ${N} random number keys`,
    ours: 'Armature TreeMap',
    goal: true,
    cases: [
      {
        name: 'Armature TreeMap',
        ops: N,
        run: () => {
          const m = new TreeMap<number, number>()
          for (let i = 0; i < N; i++) m.put(keys[i]!, i)
          sink += m.size()
        },
      },
      {
        name: 'js-sdsl OrderedMap',
        ops: N,
        run: () => {
          const m = new OrderedMap<number, number>()
          for (let i = 0; i < N; i++) m.setElement(keys[i]!, i)
          sink += m.size()
        },
      },
    ],
  },
]

// get and floor run against maps filled once per implementation.
const ourTree = new TreeMap<number, number>()
const theirTree = new OrderedMap<number, number>()
for (let i = 0; i < N; i++) {
  ourTree.put(keys[i]!, i)
  theirTree.setElement(keys[i]!, i)
}
scenarios.push(
  {
    title: `TreeMap get ${N} keys`,
    ours: 'Armature TreeMap',
    goal: true,
    cases: [
      {
        name: 'Armature TreeMap',
        ops: N,
        run: () => {
          let s = 0
          for (let i = 0; i < N; i++) s += ourTree.get(keys[i]!)!
          sink += s
        },
      },
      {
        name: 'js-sdsl OrderedMap',
        ops: N,
        run: () => {
          let s = 0
          for (let i = 0; i < N; i++) s += theirTree.getElementByKey(keys[i]!)!
          sink += s
        },
      },
    ],
  },
  {
    title: `TreeMap floorKey ${N} keys`,
    ours: 'Armature TreeMap',
    goal: true,
    cases: [
      {
        name: 'Armature TreeMap',
        ops: N,
        run: () => {
          let s = 0
          for (let i = 0; i < N; i++) s += ourTree.floorKey(probes[i]!)!
          sink += s
        },
      },
      {
        name: 'js-sdsl OrderedMap (reverseLowerBound)',
        ops: N,
        run: () => {
          let s = 0
          for (let i = 0; i < N; i++) s += theirTree.reverseLowerBound(probes[i]!).pointer[0]
          sink += s
        },
      },
    ],
  },
  {
    title: `PriorityQueue push ${N} + pop ${N}`,
    ours: 'Armature PriorityQueue',
    goal: true,
    cases: [
      {
        name: 'Armature PriorityQueue',
        ops: 2 * N,
        run: () => {
          const q = new PriorityQueue<number>()
          for (let i = 0; i < N; i++) q.offer(priorities[i]!)
          let s = 0
          for (let i = 0; i < N; i++) s += q.poll()!
          sink += s
        },
      },
      {
        name: 'mnemonist Heap',
        ops: 2 * N,
        run: () => {
          const q = new MnemonistHeap<number>()
          for (let i = 0; i < N; i++) q.push(priorities[i]!)
          let s = 0
          for (let i = 0; i < N; i++) s += q.pop()!
          sink += s
        },
      },
      {
        name: 'js-sdsl PriorityQueue',
        ops: 2 * N,
        run: () => {
          const q = new SdslPriorityQueue<number>([], (a, b) => a - b, false)
          for (let i = 0; i < N; i++) q.push(priorities[i]!)
          let s = 0
          for (let i = 0; i < N; i++) s += q.pop()!
          sink += s
        },
      },
    ],
  },
  {
    title: `ArrayDeque push ${N} + shift ${N}`,
    ours: 'Armature ArrayDeque',
    goal: true,
    cases: [
      {
        name: 'Armature ArrayDeque',
        ops: 2 * N,
        run: () => {
          const d = new ArrayDeque<number>()
          for (let i = 0; i < N; i++) d.addLast(i)
          let s = 0
          for (let i = 0; i < N; i++) s += d.pollFirst()!
          sink += s
        },
      },
      {
        name: 'js-sdsl Deque',
        ops: 2 * N,
        run: () => {
          const d = new SdslDeque<number>()
          for (let i = 0; i < N; i++) d.pushBack(i)
          let s = 0
          for (let i = 0; i < N; i++) s += d.popFront()!
          sink += s
        },
      },
      {
        name: 'native Array push/shift (one round)',
        ops: 2 * N,
        once: true,
        run: () => {
          const d: number[] = []
          for (let i = 0; i < N; i++) d.push(i)
          let s = 0
          for (let i = 0; i < N; i++) s += d.shift()!
          sink += s
        },
      },
    ],
  },
  {
    title: `HashMap ${HASH_N} custom keys: put + get`,
    ours: 'Armature HashMap (equals/hashCode, lookups by equal copies)',
    goal: false,
    cases: [
      {
        name: 'Armature HashMap (equals/hashCode, lookups by equal copies)',
        ops: 2 * HASH_N,
        run: () => {
          const m = new HashMap<Point, number>()
          for (let i = 0; i < HASH_N; i++) m.put(points[i]!, i)
          let s = 0
          for (let i = 0; i < HASH_N; i++) s += m.get(lookups[i]!)!
          sink += s
        },
      },
      {
        name: 'js-sdsl HashMap (identity, lookups by the same instances)',
        ops: 2 * HASH_N,
        run: () => {
          const m = new SdslHashMap<Point, number>()
          for (let i = 0; i < HASH_N; i++) m.setElement(points[i]!, i, true)
          let s = 0
          for (let i = 0; i < HASH_N; i++) s += m.getElementByKey(points[i]!, true)!
          sink += s
        },
      },
    ],
  },
  {
    title: `HashMap ${HASH_N} number keys: put + get`,
    ours: 'Armature HashMap',
    goal: false,
    cases: [
      {
        name: 'Armature HashMap',
        ops: 2 * HASH_N,
        run: () => {
          const m = new HashMap<number, number>()
          for (let i = 0; i < HASH_N; i++) m.put(keys[i]!, i)
          let s = 0
          for (let i = 0; i < HASH_N; i++) s += m.get(keys[i]!)!
          sink += s
        },
      },
      {
        name: 'js-sdsl HashMap',
        ops: 2 * HASH_N,
        run: () => {
          const m = new SdslHashMap<number, number>()
          for (let i = 0; i < HASH_N; i++) m.setElement(keys[i]!, i)
          let s = 0
          for (let i = 0; i < HASH_N; i++) s += m.getElementByKey(keys[i]!)!
          sink += s
        },
      },
    ],
  },
)

const only = args.find((a) => !a.startsWith('--') && !/^\d+$/.test(a))
const rows: string[] = []
const misses: string[] = []
for (const scenario of scenarios) {
  if (only && !scenario.title.toLowerCase().includes(only.toLowerCase())) continue
  const best = new Map<string, number>()
  // Rounds interleave the implementations so that machine noise hits all of them alike.
  for (let round = 0; round < ROUNDS + 1; round++) {
    for (const c of scenario.cases) {
      if (c.once && round !== ROUNDS) continue
      const started = process.hrtime.bigint()
      c.run()
      const seconds = Number(process.hrtime.bigint() - started) / 1e9
      if (round === 0 && !c.once) continue // warm-up
      best.set(c.name, Math.max(best.get(c.name) ?? 0, c.ops / seconds))
    }
  }
  const fastestCompetitor = Math.max(...scenario.cases.filter((c) => c.name !== scenario.ours).map((c) => best.get(c.name)!))
  for (const c of scenario.cases) {
    const opsPerSecond = best.get(c.name)!
    const ratio = opsPerSecond / fastestCompetitor
    rows.push(`| ${scenario.title} | ${c.name} | ${Math.round(opsPerSecond).toLocaleString('en-US')} | ${ratio.toFixed(2)} |`)
    if (c.name === scenario.ours && scenario.goal && ratio < 1) misses.push(`${scenario.title}: ${ratio.toFixed(2)}`)
  }
  process.stderr.write(`done: ${scenario.title}\n`)
}

console.log(`Machine: ${cpus()[0]?.model ?? 'unknown CPU'} x${cpus().length}, ${Math.round(totalmem() / 2 ** 30)} GiB, ${platform()} ${release()}, Node ${process.version}`)
console.log(`Date: ${new Date().toISOString()}; N = ${N}; best of ${ROUNDS} rounds after one warm-up\n`)
console.log('| Scenario | Implementation | ops/s | ratio to fastest competitor |')
console.log('|---|---|---:|---:|')
for (const row of rows) console.log(row)
console.log(misses.length ? `\nGoal missed: ${misses.join('; ')}` : '\nGoal met: ours is at least as fast as the fastest competitor in every targeted scenario.')
if (sink === 42) console.log('')
