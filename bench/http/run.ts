// GET /hello through the kernel vs bare @hono/node-server, bare node:http and fastify:
// same client, same run, each server in its own process.
import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { load, machine, type LoadResult } from '../lib/load.ts'
import { cpuSeconds, startServer } from '../lib/server.ts'
import { median } from '../lib/stats.ts'

const root = join(import.meta.dirname, '../..')
const duration = Number(process.env.BENCH_DURATION ?? 5)
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50)
const rounds = Number(process.env.BENCH_ROUNDS ?? 5)

// A drop-in folder holding only the hello plugin.
const onlyHello = mkdtempSync(join(tmpdir(), 'bench-plugins-'))
cpSync(join(root, 'plugins/hello'), join(onlyHello, 'hello'), { recursive: true })

const contenders = [
  { name: 'armature kernel', command: [process.execPath, join(root, 'core/bin/armature.mjs'), 'start', '--plugins', onlyHello], port: 18101, env: { LOG_LEVEL: 'warn', LOG_FILE: '/tmp/armature-bench.log' } },
  { name: 'bare @hono/node-server', command: [process.execPath, join(import.meta.dirname, 'bare-hono.mjs')], port: 18102, env: {} as Record<string, string> },
  { name: 'bare node:http', command: [process.execPath, join(import.meta.dirname, 'bare-node.mjs')], port: 18103, env: {} },
  { name: 'fastify', command: [process.execPath, join(import.meta.dirname, 'fastify.mjs')], port: 18104, env: {} },
]

const results = new Map<string, Array<LoadResult & { cpuUs: number }>>()
for (let round = 0; round < rounds; round++) {
  // Rotate who goes first: a shared machine drifts, and no contender should always get the quiet slot.
  const order = contenders.map((_, i) => contenders[(i + round) % contenders.length]!)
  for (const c of order) {
    const server = await startServer(c.command, `http://127.0.0.1:${c.port}/hello`, { ...c.env, PORT: String(c.port), HOST: '127.0.0.1' }, root)
    await load({ url: server.url, connections, durationSec: 2 }) // warm-up
    const cpuBefore = cpuSeconds(server.child.pid!)
    const r = await load({ url: server.url, connections, durationSec: duration })
    const cpuUs = ((cpuSeconds(server.child.pid!) - cpuBefore) * 1e6) / r.requests
    await server.stop()
    results.set(c.name, [...(results.get(c.name) ?? []), { ...r, cpuUs }])
    console.error(`round ${round + 1} ${c.name}: ${Math.round(r.rps)} req/s, p99 ${r.p99ms.toFixed(2)} ms, ${cpuUs.toFixed(1)} CPU us/req, errors ${r.errors}, non-2xx ${r.non2xx}`)
  }
}

const stat = (name: string) => {
  const runs = results.get(name)!
  return {
    rps: median(runs.map((r) => r.rps)),
    p99: median(runs.map((r) => r.p99ms)),
    cpu: median(runs.map((r) => r.cpuUs)),
    failures: runs.reduce((n, r) => n + r.errors + r.non2xx, 0),
  }
}
const hono = stat('bare @hono/node-server')
const rows = contenders.map((c) => {
  const r = stat(c.name)
  return `| ${c.name} | ${Math.round(r.rps).toLocaleString('en-US')} | ${r.p99.toFixed(2)} | ${(r.rps / hono.rps).toFixed(2)} | ${r.cpu.toFixed(1)} | ${(hono.cpu / r.cpu).toFixed(2)} | ${r.failures} |`
})
const tool = results.get(contenders[0]!.name)![0]!.tool
const report = `### GET /hello (bench/http)

${new Date().toISOString().slice(0, 10)}, ${machine()}; client ${tool}, ${connections} connections, ${duration} s per run after a 2 s warm-up, median of ${rounds} rounds (the order rotates each round); every server in its own process on the same machine as the client. CPU us/req is the server process's user+system time divided by the requests served (from /proc): steadier than req/s when the machine is shared.

| server | req/s | p99 ms | req/s x bare Hono | server CPU us/req | efficiency x bare Hono | errors |
|---|---:|---:|---:|---:|---:|---:|
${rows.join('\n')}
`
console.log(report)
mkdirSync(join(root, 'bench/results'), { recursive: true })
writeFileSync(join(root, 'bench/results/http.md'), report)
