// GET /hello through the kernel vs bare @hono/node-server, bare node:http and fastify; then a
// small JSON POST /echo through the kernel (its body reader) vs bare Hono's c.req.json() and
// bare Hono with the kernel's readJson: same client, same run, each server in its own process.
import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { load, machine, type LoadOptions, type LoadResult } from '../lib/load.ts'
import { cpuSeconds, startServer } from '../lib/server.ts'
import { median } from '../lib/stats.ts'

const root = join(import.meta.dirname, '../..')
const duration = Number(process.env.BENCH_DURATION ?? 5)
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50)
const rounds = Number(process.env.BENCH_ROUNDS ?? 5)

/** A drop-in folder holding only the named plugin (of this checkout, or of another). */
function only(plugin: string, from = root): string {
  const dir = mkdtempSync(join(tmpdir(), 'bench-plugins-'))
  cpSync(join(from, 'plugins', plugin), join(dir, plugin), { recursive: true, filter: (src) => !src.includes('/test') })
  return dir
}

interface Contender {
  name: string
  command: string[]
  port: number
  env: Record<string, string>
  /** A GET that answers 200 once the server is up (default /hello). */
  probe?: string
  /** Where the server runs (default the repository root). */
  cwd?: string
}

// BENCH_BEFORE=<a checkout of an earlier commit, installed>: its kernel runs beside this one, so a
// change to the kernel is measured before/after in the same run.
const before = process.env.BENCH_BEFORE
const beforeKernel = (port: number): Contender[] =>
  before
    ? [{
        name: `armature kernel before (${process.env.BENCH_BEFORE_LABEL ?? before})`,
        command: [process.execPath, join(before, 'core/bin/armature.mjs'), 'start', '--plugins', only('hello', before)],
        port,
        env: { LOG_LEVEL: 'warn', LOG_FILE: '/tmp/armature-bench-before.log', GRPC_PORT: String(port + 50) },
        cwd: before,
      }]
    : []

const kernel = (plugin: string, port: number): Contender => ({
  name: 'armature kernel',
  command: [process.execPath, join(root, 'core/bin/armature.mjs'), 'start', '--plugins', only(plugin)],
  port,
  env: { LOG_LEVEL: 'warn', LOG_FILE: '/tmp/armature-bench.log', GRPC_PORT: String(port + 50) },
})
const bareHono = (port: number): Contender => ({ name: 'bare @hono/node-server', command: [process.execPath, join(import.meta.dirname, 'bare-hono.mjs')], port, env: {} })

const hello = {
  title: 'GET /hello',
  path: '/hello',
  request: {} as Partial<LoadOptions>,
  baseline: 'bare @hono/node-server',
  contenders: [
    kernel('hello', 18101),
    bareHono(18102),
    { name: 'bare node:http', command: [process.execPath, join(import.meta.dirname, 'bare-node.mjs')], port: 18103, env: {} },
    { name: 'fastify', command: [process.execPath, join(import.meta.dirname, 'fastify.mjs')], port: 18104, env: {} },
    ...beforeKernel(18108),
  ],
}

const echo = {
  title: 'POST /echo, a 19-byte JSON body',
  path: '/echo',
  request: { method: 'POST', body: '{"message":"hello"}', headers: { 'content-type': 'application/json' } } as Partial<LoadOptions>,
  baseline: 'bare @hono/node-server',
  contenders: [
    { ...kernel('echo', 18105), name: 'armature kernel (ctx.http.readJson)', probe: '/echo?message=ready' },
    { ...bareHono(18106), name: 'bare @hono/node-server' },
    { name: 'bare @hono/node-server + readJson', command: [process.execPath, '--import', 'tsx', join(import.meta.dirname, 'bare-hono-reader.ts')], port: 18107, env: {} },
  ],
}

async function measure(section: typeof hello): Promise<{ rows: string[]; tool: string }> {
  const results = new Map<string, Array<LoadResult & { cpuUs: number }>>()
  const { contenders } = section
  for (let round = 0; round < rounds; round++) {
    // Rotate who goes first: a shared machine drifts, and no contender should always get the quiet slot.
    const order = contenders.map((_, i) => contenders[(i + round) % contenders.length]!)
    for (const c of order) {
      const server = await startServer(c.command, `http://127.0.0.1:${c.port}${c.probe ?? '/hello'}`, { ...c.env, PORT: String(c.port), HOST: '127.0.0.1' }, c.cwd ?? root)
      const url = `http://127.0.0.1:${c.port}${section.path}`
      await load({ url, connections, durationSec: 2, ...section.request }) // warm-up
      const cpuBefore = cpuSeconds(server.child.pid!)
      const r = await load({ url, connections, durationSec: duration, ...section.request })
      const cpuUs = ((cpuSeconds(server.child.pid!) - cpuBefore) * 1e6) / r.requests
      await server.stop()
      results.set(c.name, [...(results.get(c.name) ?? []), { ...r, cpuUs }])
      console.error(`${section.title} round ${round + 1} ${c.name}: ${Math.round(r.rps)} req/s, p99 ${r.p99ms.toFixed(2)} ms, ${cpuUs.toFixed(1)} CPU us/req, errors ${r.errors}, non-2xx ${r.non2xx}`)
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
  const base = stat(section.baseline)
  const rows = contenders.map((c) => {
    const r = stat(c.name)
    return `| ${c.name} | ${Math.round(r.rps).toLocaleString('en-US')} | ${r.p99.toFixed(2)} | ${(r.rps / base.rps).toFixed(2)} | ${r.cpu.toFixed(1)} | ${(base.cpu / r.cpu).toFixed(2)} | ${r.failures} |`
  })
  return { rows, tool: results.get(contenders[0]!.name)![0]!.tool }
}

const header = `| server | req/s | p99 ms | req/s x bare Hono | server CPU us/req | efficiency x bare Hono | errors |
|---|---:|---:|---:|---:|---:|---:|`
const helloRun = await measure(hello)
const echoRun = await measure(echo)
const report = `### GET /hello and a JSON POST (bench/http)

${new Date().toISOString().slice(0, 10)}, ${machine()}; client ${helloRun.tool}, ${connections} connections, ${duration} s per run after a 2 s warm-up, median of ${rounds} rounds (the order rotates each round); every server in its own process on the same machine as the client. CPU us/req is the server process's user+system time divided by the requests served (from /proc): steadier than req/s when the machine is shared.

${hello.title}:

${header}
${helloRun.rows.join('\n')}

${echo.title} (\`{"message":"hello"}\`, answered as \`{ message, generation, sequence }\`): the kernel serves the echo plugin, whose route reads the body with \`ctx.http.readJson\`; bare Hono reads it with \`c.req.json()\`, and once more with the kernel's \`readJson\` in place of it, which isolates the reader's cost.

${header}
${echoRun.rows.join('\n')}
`
console.log(report)
mkdirSync(join(root, 'bench/results'), { recursive: true })
writeFileSync(join(root, 'bench/results/http.md'), report)
