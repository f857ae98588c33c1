// GET /hello through the kernel vs bare @hono/node-server, bare node:http and fastify; then a
// small JSON POST /echo through the kernel (its body reader) vs bare Hono's c.req.json() and
// bare Hono with the kernel's readJson: same client, same run, each server in its own process.
// GET /hello also runs the kernel with tracing on: every span exported to a local OTLP
// receiver (otlp-sink.mjs), and one trace in ten.
import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
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
  /** Count the spans the OTLP receiver gets while this one runs. */
  exportsSpans?: boolean
}

// BENCH_BEFORE=<a checkout of an earlier commit, installed>: its kernel runs beside this one, so a
// change to the kernel is measured before/after in the same run.
const before = process.env.BENCH_BEFORE
const beforeKernel = (port: number): Contender[] =>
  before
    ? [
        {
          name: `armature kernel before (${process.env.BENCH_BEFORE_LABEL ?? before})`,
          command: [process.execPath, join(before, 'core/bin/armature.mjs'), 'start', '--plugins', only('hello', before)],
          port,
          env: { LOG_LEVEL: 'warn', LOG_FILE: '/tmp/armature-bench-before.log', GRPC_PORT: String(port + 50) },
          cwd: before,
        },
      ]
    : []

const kernel = (plugin: string, port: number): Contender => ({
  name: 'armature kernel',
  command: [process.execPath, join(root, 'core/bin/armature.mjs'), 'start', '--plugins', only(plugin)],
  port,
  env: { LOG_LEVEL: 'warn', LOG_FILE: '/tmp/armature-bench.log', GRPC_PORT: String(port + 50) },
})
const bareHono = (port: number): Contender => ({ name: 'bare @hono/node-server', command: [process.execPath, join(import.meta.dirname, 'bare-hono.mjs')], port, env: {} })

const sinkPort = 18109
const tracingOn = 'armature kernel, tracing on'
const sampledName = `${tracingOn}, 1 in 10 sampled`
const traced = (name: string, port: number, env: Record<string, string>): Contender => {
  const k = kernel('hello', port)
  return { ...k, name, env: { ...k.env, OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${sinkPort}`, OTEL_SERVICE_NAME: 'bench', ...env } }
}

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
    // Tracing on, default batch settings (512 spans per export, 2048 buffered), as a service would run.
    { ...traced(tracingOn, 18112, {}), exportsSpans: true },
    // Sampling is the lever for a hot path: one trace in ten recorded and exported.
    traced(sampledName, 18110, { OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.1' }),
  ] as Contender[],
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

// The receiver runs for the whole benchmark, so every contender shares the machine with it.
const sink = await startServer([process.execPath, join(import.meta.dirname, 'otlp-sink.mjs')], `http://127.0.0.1:${sinkPort}/count`, { PORT: String(sinkPort) })
const sinkCount = async () => (await (await fetch(`http://127.0.0.1:${sinkPort}/count`)).json()) as { requests: number; spans: number; bytes: number }
/** Requests the tracing-on kernel served (warm-ups included) and the spans the receiver got from it. */
const exported = { served: 0, spans: 0, batches: 0 }
const loadAtStart = loadavg()[0]!

type Stat = { rps: number; p99: number; cpu: number; failures: number }

async function measure(section: {
  title: string
  path: string
  request: Partial<LoadOptions>
  baseline: string
  contenders: Contender[]
}): Promise<{ rows: string[]; tool: string; stat: (name: string) => Stat }> {
  const results = new Map<string, Array<LoadResult & { cpuUs: number }>>()
  const { contenders } = section
  for (let round = 0; round < rounds; round++) {
    // Rotate who goes first: a shared machine drifts, and no contender should always get the quiet slot.
    const order = contenders.map((_, i) => contenders[(i + round) % contenders.length]!)
    for (const c of order) {
      const countBefore = await sinkCount()
      const server = await startServer(c.command, `http://127.0.0.1:${c.port}${c.probe ?? '/hello'}`, { ...c.env, PORT: String(c.port), HOST: '127.0.0.1' }, c.cwd ?? root)
      const url = `http://127.0.0.1:${c.port}${section.path}`
      const warm = await load({ url, connections, durationSec: 2, ...section.request }) // warm-up
      const cpuBefore = cpuSeconds(server.child.pid!)
      const r = await load({ url, connections, durationSec: duration, ...section.request })
      const cpuUs = ((cpuSeconds(server.child.pid!) - cpuBefore) * 1e6) / r.requests
      // The stop exports what is still buffered, so the count below is complete.
      await server.stop()
      if (c.exportsSpans) {
        const after = await sinkCount()
        // The readiness probe is one request more.
        exported.served += warm.requests + r.requests + 1
        exported.spans += after.spans - countBefore.spans
        exported.batches += after.requests - countBefore.requests
      }
      results.set(c.name, [...(results.get(c.name) ?? []), { ...r, cpuUs }])
      console.error(
        `${section.title} round ${round + 1} ${c.name}: ${Math.round(r.rps)} req/s, p99 ${r.p99ms.toFixed(2)} ms, ${cpuUs.toFixed(1)} CPU us/req, errors ${r.errors}, non-2xx ${r.non2xx}`,
      )
    }
  }
  const stat = (name: string): Stat => {
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
  return { rows, tool: results.get(contenders[0]!.name)![0]!.tool, stat }
}

const header = `| server | req/s | p99 ms | req/s x bare Hono | server CPU us/req | efficiency x bare Hono | errors |
|---|---:|---:|---:|---:|---:|---:|`
const helloRun = await measure(hello)
const echoRun = await measure(echo)
await sink.stop()
const percent = (a: number, b: number) => `${a >= b ? '+' : ''}${(((a - b) / b) * 100).toFixed(1)}%`
const off = helloRun.stat('armature kernel')
const on = helloRun.stat(tracingOn)
const sampled = helloRun.stat(sampledName)
const tracingLines = [
  `Tracing on (every request's span batched and exported as OTLP/protobuf to a receiver process on the same machine, default batch settings) against off: ${(on.cpu - off.cpu).toFixed(1)} CPU us/req more (${percent(on.cpu, off.cpu)}), req/s ${percent(on.rps, off.rps)}. The receiver got ${exported.spans.toLocaleString('en-US')} spans in ${exported.batches.toLocaleString('en-US')} export requests for ${exported.served.toLocaleString('en-US')} requests served (${(exported.spans / exported.served).toFixed(3)} spans per request; below 1 would mean spans dropped).`,
  `One trace in ten sampled (OTEL_TRACES_SAMPLER=parentbased_traceidratio, OTEL_TRACES_SAMPLER_ARG=0.1) against off: ${(sampled.cpu - off.cpu).toFixed(1)} CPU us/req more (${percent(sampled.cpu, off.cpu)}), req/s ${percent(sampled.rps, off.rps)}.`,
]
const report = `### GET /hello and a JSON POST (bench/http)

${new Date().toISOString().slice(0, 10)}, ${machine()}; client ${helloRun.tool}, ${connections} connections, ${duration} s per run after a 2 s warm-up, median of ${rounds} rounds (the order rotates each round); every server in its own process on the same machine as the client. CPU us/req is the server process's user+system time divided by the requests served (from /proc): steadier than req/s when the machine is shared.

${hello.title}:

${header}
${helloRun.rows.join('\n')}

${tracingLines.join('\n\n')}

${echo.title} (\`{"message":"hello"}\`, answered as \`{ message, generation, sequence }\`): the kernel serves the echo plugin, whose route reads the body with \`ctx.http.readJson\`; bare Hono reads it with \`c.req.json()\`, and once more with the kernel's \`readJson\` in place of it, which isolates the reader's cost.

${header}
${echoRun.rows.join('\n')}

Load average (1 min) when the run began and ended: ${loadAtStart.toFixed(1)}, ${loadavg()[0]!.toFixed(1)}.
`
console.log(report)
mkdirSync(join(root, 'bench/results'), { recursive: true })
writeFileSync(join(root, 'bench/results/http.md'), report)
