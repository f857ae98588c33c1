// Cache benchmark: GET by id and PUT through the kernel, beside the kernel's own
// GET /hello in the same run, then acknowledged writes lost on kill -9 per fsync policy.
//   node --import tsx bench/cache/run.ts [--duration-ms 5000] [--connections 32] [--rounds 5] [--kill-rounds 5]
import { cpus, totalmem } from 'node:os'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { tmpdir } from 'node:os'
import { cpuSeconds } from '../lib/server.ts'
import { hasWrk } from '../lib/load.ts'
import { median } from '../lib/stats.ts'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { startTestKernel } from '@armature/testing'
import { killLoop } from '../../plugins/cache/test/support/kill-loop.ts'
import { tempDir } from '../../plugins/cache/test/support/tmp.ts'
import type { LoadResult, LoadSpec } from './load.ts'

const { values } = parseArgs({
  options: {
    'duration-ms': { type: 'string', default: '5000' },
    connections: { type: 'string', default: '32' },
    rounds: { type: 'string', default: '5' },
    'kill-rounds': { type: 'string', default: '5' },
    out: { type: 'string', default: fileURLToPath(new URL('../results/cache.md', import.meta.url)) },
  },
})
const durationMs = Number(values['duration-ms'])
const connections = Number(values.connections)
const killRounds = Number(values['kill-rounds'])
const rounds = Number(values.rounds)
const root = fileURLToPath(new URL('../..', import.meta.url))
const LOAD = fileURLToPath(new URL('./load.ts', import.meta.url))
const exec = promisify(execFile)

const useWrk = hasWrk() && !process.env.BENCH_NODE_LOAD

/** CPU time of this process (the kernel under test) per request of one load run, in microseconds. */
type Measured = LoadResult & { cpuUsPerRequest: number }

async function load(spec: Omit<LoadSpec, 'connections' | 'durationMs'>): Promise<Measured> {
  const before = cpuSeconds(process.pid)
  const result = useWrk
    ? await wrkLoad(spec)
    : (JSON.parse((await exec(process.execPath, ['--import', 'tsx', LOAD, JSON.stringify({ ...spec, connections, durationMs })], { cwd: root })).stdout) as LoadResult)
  const cpu = cpuSeconds(process.pid) - before
  return { ...result, cpuUsPerRequest: (cpu / Math.max(1, result.requests)) * 1e6 }
}

// wrk (C, one thread) loads the machine far less than a Node client: with the Node client
// the client itself capped every route near the same rate, hiding the server's costs.
async function wrkLoad(spec: Omit<LoadSpec, 'connections' | 'durationMs'>): Promise<LoadResult> {
  // `{i}` becomes 0..connections-1 in turn, so writes spread over as many documents as connections.
  const target = new URL(spec.url.replace('{i}', 'CLIENT'))
  const [pathStart = '', pathEnd = ''] = target.pathname.split('CLIENT')
  const script = `
wrk.method = ${JSON.stringify(spec.method)}
${spec.body !== undefined ? `wrk.body = ${JSON.stringify(spec.body)}\nwrk.headers["content-type"] = "application/json"` : ''}
local n = 0
request = function()
  n = (n + 1) % ${connections}
  return wrk.format(nil, ${spec.url.includes('{i}') ? `${JSON.stringify(pathStart)} .. n .. ${JSON.stringify(pathEnd)}` : JSON.stringify(pathStart)})
end
done = function(summary, latency)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout + summary.errors.status
  io.write(string.format('WRKJSON {"requests":%d,"durationUs":%d,"p50":%d,"p99":%d,"errors":%d}\\n', summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), errors))
end
`
  const file = join(mkdtempSync(join(tmpdir(), 'cache-wrk-')), 'load.lua')
  writeFileSync(file, script)
  const { stdout } = await exec('wrk', ['-t1', `-c${connections}`, `-d${Math.round(durationMs / 1000)}s`, '-s', file, `${target.origin}/`])
  const line = stdout.split('\n').find((l) => l.startsWith('WRKJSON '))
  if (!line) throw new Error(`wrk printed no result:\n${stdout}`)
  const r = JSON.parse(line.slice(8)) as { requests: number; durationUs: number; p50: number; p99: number; errors: number }
  return { requests: r.requests, errors: r.errors, rps: r.requests / (r.durationUs / 1e6), p50Ms: r.p50 / 1000, p99Ms: r.p99 / 1000, errorKinds: {} }
}

interface Row {
  name: string
  /** Medians over the rounds, each column on its own. */
  result: Measured
  /** Per round, this route's req/s over /hello's of the same round (routes other than /hello). */
  ratios?: number[]
}

const medianOf = (runs: Measured[]): Measured => ({
  requests: median(runs.map((r) => r.requests)),
  errors: runs.reduce((n, r) => n + r.errors, 0),
  rps: median(runs.map((r) => r.rps)),
  p50Ms: median(runs.map((r) => r.p50Ms)),
  p99Ms: median(runs.map((r) => r.p99Ms)),
  errorKinds: {},
  cpuUsPerRequest: median(runs.map((r) => r.cpuUsPerRequest)),
})

async function throughput(fsync: string): Promise<Row[]> {
  const k = await startTestKernel({
    plugins: [`${root}plugins/hello`, `${root}plugins/cache`],
    env: { CACHE_FSYNC: fsync, CACHE_REDIS_URL: '', DATA_DIR: tempDir('bench') },
    terminalLogLevel: 'error',
  })
  try {
    await fetch(`${k.url}/cache/bench/doc`, { method: 'PUT', body: JSON.stringify({ name: 'benchmark', n: 1, tags: ['a', 'b'] }), headers: { 'content-type': 'application/json' } })
    const routes: Array<{ name: string; spec: Omit<LoadSpec, 'connections' | 'durationMs'> }> = [
      { name: `GET /hello (kernel, fsync ${fsync} run)`, spec: { url: `${k.url}/hello`, method: 'GET' } },
      { name: `GET /cache/bench/doc (fsync ${fsync})`, spec: { url: `${k.url}/cache/bench/doc`, method: 'GET' } },
      { name: `PUT /cache/bench/w{i} (fsync ${fsync})`, spec: { url: `${k.url}/cache/bench/w{i}`, method: 'PUT', body: JSON.stringify({ name: 'benchmark', n: 1 }) } },
    ]
    // Warm up every route, so the JIT favours none of them.
    for (const route of routes) await load(route.spec)
    const runs = routes.map(() => [] as Measured[])
    for (let round = 0; round < rounds; round++) {
      // The order rotates: a shared machine drifts, and no route should always run first.
      for (let i = 0; i < routes.length; i++) {
        const at = (i + round) % routes.length
        runs[at]!.push(await load(routes[at]!.spec))
      }
    }
    return routes.map((route, i) => ({
      name: route.name,
      result: medianOf(runs[i]!),
      ...(i > 0 ? { ratios: runs[i]!.map((r, round) => r.rps / runs[0]![round]!.rps) } : {}),
    }))
  } finally {
    await k.stop()
  }
}

const started = new Date()
const rows = [...(await throughput('everysec')), ...(await throughput('always'))]
const kills = []
for (const policy of ['always', 'everysec', 'no'] as const) {
  const result = await killLoop({ dataDir: tempDir('bench-kill'), policy, rounds: killRounds })
  kills.push({ policy, ...result })
}

const ratioOf = (row: Row) => median(row.ratios ?? [1])
const verdict = (row: Row, goal: number) => {
  const ratio = ratioOf(row)
  const within = (row.ratios ?? []).filter((r) => r >= goal).length
  return `${ratio >= goal ? 'met' : 'missed'}: ${ratio.toFixed(2)}x, ${within} of ${row.ratios?.length ?? 0} rounds at or above`
}
const fmt = (n: number) => n.toFixed(n >= 100 ? 0 : 2)
const command = `node --import tsx bench/cache/run.ts --duration-ms ${durationMs} --connections ${connections} --rounds ${rounds} --kill-rounds ${killRounds}`
const md = `# Cache benchmark

- Date: ${started.toISOString()}
- Machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} CPUs, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Node ${process.version}, ${process.platform}
- Command: \`${command}\`
- Setup: one in-process kernel with the hello and cache plugins, no Redis (the periodic dump is off the request path either way);
  the load generator is ${useWrk ? `wrk (one thread, ${connections} keep-alive connections)` : `a closed loop of ${connections} keep-alive connections in a separate Node process`},
  ${durationMs} ms per run after a warm-up run of every route; ${rounds} rounds per fsync policy, the
  order of the three routes rotating each round; each column is the median over the rounds. Kernel and
  load generator share the machine's CPUs; the CPU column is the kernel process's CPU time
  (user + system from /proc) divided by the requests of that run.

## Throughput (ratio to GET /hello of the same kernel)

| route | req/s | p50 ms | p99 ms | errors | ratio (median of rounds) | ratio per round | kernel CPU µs/request |
|---|---:|---:|---:|---:|---:|---|---:|
${rows.map((r) => `| ${r.name} | ${fmt(r.result.rps)} | ${fmt(r.result.p50Ms)} | ${fmt(r.result.p99Ms)} | ${r.result.errors} | ${ratioOf(r).toFixed(2)}x | ${r.ratios ? r.ratios.map((x) => x.toFixed(2)).join(', ') : '-'} | ${r.result.cpuUsPerRequest.toFixed(1)} |`).join('\n')}

Goals: GET >= 0.9x hello (${verdict(rows[1]!, 0.9)}), PUT with everysec >= 0.7x hello (${verdict(rows[2]!, 0.7)}).
Absolute numbers move with whatever else the machine runs; ratios within one kernel and one round are the comparison.
How the GET and PUT paths got here (measured before and after each change) is in [bench/cache/history.md](/bench/cache/history.md).
A PUT reads and parses a body, checks names and If-Match, builds the document, appends
to the log (one write(2) per event-loop turn under everysec, on the thread pool with
fdatasync under always) and answers only after that write, which a GET /hello does none of;
with everysec the fsync itself is off the request path.

## Acknowledged writes lost on kill -9

A child process serves the store over HTTP, takes writes from 16 concurrent clients and is
SIGKILLed after a random number (50-250) of acknowledged writes, ${killRounds} rounds per policy;
after each kill the data folder is read back.

| fsync | rounds | acknowledged | lost | in flight at kill (unacknowledged) | torn tails seen |
|---|---:|---:|---:|---:|---:|
${kills.map((k) => `| ${k.policy} | ${k.rounds} | ${k.acknowledged} | ${k.lost.length} | ${k.unacknowledged} | ${k.tornTails} |`).join('\n')}

A kill -9 ends the process but not the operating system: every policy acknowledges only after
write(2), so the page cache keeps the record. The policies differ on power loss or a
kernel crash, which this benchmark does not simulate: \`always\` loses nothing
acknowledged, \`everysec\` up to about one second, \`no\` whatever the OS had not flushed.
`
writeFileSync(values.out, md)
process.stdout.write(md)
