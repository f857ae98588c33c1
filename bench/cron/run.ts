// Benchmarks the cron plugin's scheduler against croner and setInterval:
//   1. next-run computations per second for a few expressions, with and without a timezone;
//   2. start lateness (p50/p99) of a 100 ms job over 30 s, all three running in this process.
// Run: node --import tsx bench/cron/run.ts   (BENCH_CRON_SECONDS=10 for a shorter lateness run)
import { cpus } from 'node:os'
import { Cron } from 'croner'
import { parseCron } from '../../plugins/cron/src/cron-expression.ts'
import { nextCronRun } from '../../plugins/cron/src/next-run.ts'
import { Scheduler } from '../../plugins/cron/src/scheduler.ts'
import { Zone } from '../../plugins/cron/src/zoned-time.ts'

const EXPRESSIONS = ['*/5 * * * *', '0 9 * * MON-FRI', '0 0 L * *', '0 30 2 * * *', '0 0 * * 5#3']
const ZONES: (string | undefined)[] = [undefined, 'America/New_York']
const MEASURE_MS = Number(process.env.BENCH_CRON_MEASURE_MS) || 700
const LATENESS_S = Number(process.env.BENCH_CRON_SECONDS) || 30

// Inputs both libraries see: hourly-ish starting points spread over ~4 years from 2024.
const BASE = Date.parse('2024-01-01T00:00:00Z')
const STARTS = Array.from({ length: 4096 }, (_, i) => BASE + i * 31_536_017)

function opsPerSecond(fn: (from: number) => unknown): number {
  for (let i = 0; i < 2000; i++) fn(STARTS[i % STARTS.length]!) // warm-up
  let n = 0
  const begin = performance.now()
  let elapsed = 0
  while (elapsed < MEASURE_MS) {
    for (let i = 0; i < 256; i++, n++) fn(STARTS[n % STARTS.length]!)
    elapsed = performance.now() - begin
  }
  return (n / elapsed) * 1000
}

function fmt(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : n >= 1e3 ? `${(n / 1e3).toFixed(0)} k` : n.toFixed(0)
}

function nextRunTable(): string[] {
  const rows = ['| expression | timezone | ours (ops/s) | croner (ops/s) | ratio |', '|---|---|---:|---:|---:|']
  let mismatches = 0
  for (const tz of ZONES) {
    for (const expr of EXPRESSIONS) {
      const parsed = parseCron(expr)
      const zone = Zone.get(tz)
      const job = new Cron(expr, tz ? { timezone: tz } : {})
      for (const from of STARTS.slice(0, 200)) {
        if (nextCronRun(parsed, from, zone) !== job.nextRun(new Date(from))?.getTime()) mismatches++
      }
      const ours = opsPerSecond((from) => nextCronRun(parsed, from, zone))
      const theirs = opsPerSecond((from) => job.nextRun(new Date(from)))
      rows.push(`| \`${expr}\` | ${tz ?? `none (system: ${zone.name})`} | ${fmt(ours)} | ${fmt(theirs)} | ${(ours / theirs).toFixed(1)}x |`)
    }
  }
  rows.push('', `Results differing from croner on the sampled inputs: ${mismatches} (DST-gap times are a documented difference).`)
  return rows
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
}

async function latenessTable(): Promise<string[]> {
  const ours: number[] = []
  const interval: number[] = []
  const croner: number[] = []
  const scheduler = new Scheduler()
  const t0 = Date.now()
  scheduler.schedule('bench', 100, (ctx) => void ours.push(Date.now() - ctx.scheduledAt.getTime()))
  let k = 0
  const timer = setInterval(() => interval.push(Date.now() - (t0 + ++k * 100)), 100)
  // croner's finest resolution is one second, so it runs every second.
  const job = new Cron('* * * * * *', () => {
    const now = Date.now()
    croner.push(now - Math.floor(now / 1000) * 1000)
  })
  await new Promise((resolve) => setTimeout(resolve, LATENESS_S * 1000 + 50))
  clearInterval(timer)
  job.stop()
  await scheduler.stop(1000)
  const row = (name: string, samples: number[], note: string) => {
    const s = [...samples].sort((a, b) => a - b)
    return `| ${name} | ${samples.length} | ${percentile(s, 50)} | ${percentile(s, 99)} | ${s.at(-1)} | ${note} |`
  }
  return [
    '| scheduler | runs | p50 lateness (ms) | p99 (ms) | max (ms) | note |',
    '|---|---:|---:|---:|---:|---|',
    row('plugin-cron `100` (ms interval)', ours, 'armed from absolute time'),
    row('setInterval(100)', interval, 'lateness vs t0 + k*100: drift accumulates'),
    row('croner `* * * * * *`', croner, '1 s is its finest resolution'),
  ]
}

const cpu = cpus()[0]?.model ?? 'unknown cpu'
console.log(`machine: ${cpu} (${cpus().length} cores), node ${process.version}, ${process.platform}/${process.arch}`)
console.log(`date: ${new Date().toISOString()}`)
console.log('\n### next-run computations per second\n')
console.log(nextRunTable().join('\n'))
console.log(`\n### start lateness over ${LATENESS_S} s (all three at once, same process)\n`)
console.log((await latenessTable()).join('\n'))
