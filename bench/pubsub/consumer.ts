// The consumer process: counts deliveries per group and phase, and for the measured phase the
// publish-to-deliver time of each and when the last one came. Talks to run.ts over IPC.
import { openConsumer, type Scenario } from './drivers.ts'
import { MEASURED, nowNs, phaseOf, publishedNs } from './payload.ts'

const s = JSON.parse(process.env.BENCH_SCENARIO!) as Scenario
const counts = [0, 0]
const latencies: number[] = []
let lastNs = 0
let expected: { phase: number; count: number; reply: () => void } | undefined

const client = await openConsumer(s, (v) => {
  const phase = phaseOf(v)
  counts[phase]!++
  if (phase === MEASURED) {
    lastNs = nowNs()
    latencies.push(lastNs - publishedNs(v))
  }
  if (expected && expected.phase === phase && counts[phase]! >= expected.count) {
    const { reply } = expected
    expected = undefined
    reply()
  }
})

const percentile = (sorted: Float64Array, p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : NaN)
const result = () => {
  const sorted = Float64Array.from(latencies).sort()
  return { type: 'result', received: counts[MEASURED], lastNs, p50ms: percentile(sorted, 50) / 1e6, p99ms: percentile(sorted, 99) / 1e6, maxms: percentile(sorted, 100) / 1e6 }
}

process.on('message', (m: { type: string; phase: number; count: number; timeoutMs: number }) => {
  if (m.type === 'expect') {
    // Every group receives every message.
    const count = m.count * s.groups
    const reply = () => {
      clearTimeout(timer)
      process.send!(m.phase === MEASURED ? result() : { type: 'drained', received: counts[m.phase] })
    }
    const timer = setTimeout(() => {
      expected = undefined
      reply()
    }, m.timeoutMs)
    if (counts[m.phase]! >= count) reply()
    else expected = { phase: m.phase, count, reply }
  }
  if (m.type === 'stop') void client.close().finally(() => process.disconnect())
})
process.send!({ type: 'ready' })
