// Cache benchmark: GET by id and PUT through the kernel, beside the kernel's own
// GET /hello in the same run, then acknowledged writes lost on kill -9 per fsync policy.
//   node --import tsx bench/cache/run.ts [--duration-ms 5000] [--connections 32] [--kill-rounds 5]
import { cpus, totalmem } from 'node:os'
import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { startTestKernel } from '@armature/core/testing'
import { killLoop } from '../../plugins/cache/test/support/kill-loop.ts'
import { tempDir } from '../../plugins/cache/test/support/tmp.ts'
import type { LoadResult, LoadSpec } from './load.ts'

const { values } = parseArgs({
  options: {
    'duration-ms': { type: 'string', default: '5000' },
    connections: { type: 'string', default: '32' },
    'kill-rounds': { type: 'string', default: '5' },
    out: { type: 'string', default: fileURLToPath(new URL('../results/cache.md', import.meta.url)) },
  },
})
const durationMs = Number(values['duration-ms'])
const connections = Number(values.connections)
const killRounds = Number(values['kill-rounds'])
const root = fileURLToPath(new URL('../..', import.meta.url))
const LOAD = fileURLToPath(new URL('./load.ts', import.meta.url))
const exec = promisify(execFile)

async function load(spec: Omit<LoadSpec, 'connections' | 'durationMs'>): Promise<LoadResult> {
  const { stdout } = await exec(process.execPath, ['--import', 'tsx', LOAD, JSON.stringify({ ...spec, connections, durationMs })], { cwd: root })
  return JSON.parse(stdout) as LoadResult
}

interface Row {
  name: string
  result: LoadResult
  ratio?: string
}

async function throughput(fsync: string): Promise<Row[]> {
  const k = await startTestKernel({
    plugins: [`${root}plugins/hello`, `${root}plugins/cache`],
    env: { CACHE_FSYNC: fsync, CACHE_REDIS_URL: '', DATA_DIR: tempDir('bench') },
    terminalLogLevel: 'error',
  })
  try {
    await fetch(`${k.url}/cache/bench/doc`, { method: 'PUT', body: JSON.stringify({ name: 'benchmark', n: 1, tags: ['a', 'b'] }), headers: { 'content-type': 'application/json' } })
    // Warm up both routes so the JIT does not favour whichever runs second.
    await load({ url: `${k.url}/hello`, method: 'GET' })
    const hello = await load({ url: `${k.url}/hello`, method: 'GET' })
    const get = await load({ url: `${k.url}/cache/bench/doc`, method: 'GET' })
    const put = await load({ url: `${k.url}/cache/bench/w{i}`, method: 'PUT', body: JSON.stringify({ name: 'benchmark', n: 1 }) })
    const ratio = (r: LoadResult) => `${(r.rps / hello.rps).toFixed(2)}x`
    return [
      { name: `GET /hello (kernel, fsync ${fsync} run)`, result: hello },
      { name: `GET /cache/bench/doc (fsync ${fsync})`, result: get, ratio: ratio(get) },
      { name: `PUT /cache/bench/w{i} (fsync ${fsync})`, result: put, ratio: ratio(put) },
    ]
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

const verdict = (row: Row, goal: number) => (row.result.rps / rows[0]!.result.rps >= goal ? 'met' : `missed: ${(row.result.rps / rows[0]!.result.rps).toFixed(2)}x`)
const fmt = (n: number) => n.toFixed(n >= 100 ? 0 : 2)
const command = `node --import tsx bench/cache/run.ts --duration-ms ${durationMs} --connections ${connections} --kill-rounds ${killRounds}`
const md = `# Cache benchmark

- Date: ${started.toISOString()}
- Machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} CPUs, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Node ${process.version}, ${process.platform}
- Command: \`${command}\`
- Setup: one in-process kernel with the hello and cache plugins, no Redis (the periodic dump is off the request path either way);
  the load generator is a closed loop of ${connections} keep-alive connections in a separate Node process,
  ${durationMs} ms per row. Kernel and load generator share the machine's CPUs.

## Throughput (ratio to GET /hello of the same kernel)

| route | req/s | p50 ms | p99 ms | errors | ratio |
|---|---:|---:|---:|---:|---:|
${rows.map((r) => `| ${r.name} | ${fmt(r.result.rps)} | ${fmt(r.result.p50Ms)} | ${fmt(r.result.p99Ms)} | ${r.result.errors} | ${r.ratio ?? '1.00x'} |`).join('\n')}

Goals from the issue: GET >= 0.9x hello (${verdict(rows[1]!, 0.9)}), PUT with everysec >= 0.7x hello (${verdict(rows[2]!, 0.7)}).
Absolute numbers move with whatever else the machine runs; ratios within one kernel are the comparison.
A PUT reads and parses a body, checks names and If-Match, builds the document, appends
to the log through libuv's thread pool and answers only after that write, which a
GET /hello does none of; with everysec the fsync itself is off the request path.

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
