// Unary calls/s through the kernel (the echo plugin's Unary) vs a bare grpc-js server with
// the same proto and handler: same client, same run, each server in its own process.
import { spawn, type ChildProcess } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { machine } from '../lib/load.ts'
import { cpuSeconds } from '../lib/server.ts'
import { ECHO_DIR, echoClient, unary } from '../../plugins/echo/test/support.ts'
import { median } from '../lib/stats.ts'

const root = join(import.meta.dirname, '../..')
const duration = Number(process.env.BENCH_DURATION ?? 5)
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 64)
const rounds = Number(process.env.BENCH_ROUNDS ?? 5)

// A drop-in folder holding only the echo plugin.
const onlyEcho = mkdtempSync(join(tmpdir(), 'bench-plugins-'))
cpSync(ECHO_DIR, join(onlyEcho, 'echo'), { recursive: true, filter: (src) => !src.includes('node_modules') && !src.includes('/test') })

const contenders = [
  {
    name: 'armature kernel',
    command: [process.execPath, join(root, 'core/bin/armature.mjs'), 'start', '--plugins', onlyEcho],
    port: 18201,
    env: { PORT: '18211', HOST: '127.0.0.1', LOG_LEVEL: 'warn', LOG_FILE: '/tmp/armature-bench-grpc.log' },
  },
  { name: 'bare grpc-js', command: [process.execPath, join(import.meta.dirname, 'bare-grpc.mjs')], port: 18202, env: {} as Record<string, string> },
]

interface Run {
  calls: number
  callsPerSec: number
  p50ms: number
  p99ms: number
  errors: number
  cpuUs: number
  clientCpuUs: number
}

/** Starts a server process and waits until a unary call succeeds. */
async function start(command: string[], env: Record<string, string>, address: string): Promise<{ child: ChildProcess; client: any; stop(): Promise<void> }> {
  const child = spawn(command[0]!, command.slice(1), { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] })
  const client = echoClient(address)
  const deadline = Date.now() + 30_000
  for (;;) {
    try {
      await unary(client, 'ready?', 1000)
      break
    } catch {
      // not serving yet
    }
    if (child.exitCode !== null) throw new Error(`${command.join(' ')} exited with ${child.exitCode}`)
    if (Date.now() > deadline) throw new Error(`${address} did not answer within 30 s`)
    await new Promise((r) => setTimeout(r, 100))
  }
  return {
    child,
    client,
    stop: () =>
      new Promise((resolve) => {
        client.close()
        if (child.exitCode !== null) return resolve()
        child.once('exit', () => resolve())
        child.kill('SIGTERM')
      }),
  }
}

/** `concurrency` callers, each issuing its next call as soon as the last one answers. */
async function callLoad(client: any, seconds: number): Promise<Omit<Run, 'cpuUs' | 'clientCpuUs'>> {
  const latencies: number[] = []
  let errors = 0
  const started = performance.now()
  const end = started + seconds * 1000
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const t = performance.now()
        try {
          await unary(client, 'hello')
          latencies.push(performance.now() - t)
        } catch {
          errors++
        }
      }
    }),
  )
  const elapsed = (performance.now() - started) / 1000
  latencies.sort((a, b) => a - b)
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0
  return { calls: latencies.length, callsPerSec: latencies.length / elapsed, p50ms: at(0.5), p99ms: at(0.99), errors }
}

const results = new Map<string, Run[]>()
for (let round = 0; round < rounds; round++) {
  // Rotate who goes first: a shared machine drifts, and no contender should always get the quiet slot.
  const order = contenders.map((_, i) => contenders[(i + round) % contenders.length]!)
  for (const c of order) {
    const server = await start(c.command, { ...c.env, GRPC_PORT: String(c.port) }, `127.0.0.1:${c.port}`)
    await callLoad(server.client, 3) // warm-up (the kernel's TypeScript is compiled on first use)
    const cpuBefore = cpuSeconds(server.child.pid!)
    const clientBefore = process.cpuUsage()
    const r = await callLoad(server.client, duration)
    const cpuUs = ((cpuSeconds(server.child.pid!) - cpuBefore) * 1e6) / r.calls
    const clientUsage = process.cpuUsage(clientBefore)
    const clientCpuUs = (clientUsage.user + clientUsage.system) / r.calls
    await server.stop()
    results.set(c.name, [...(results.get(c.name) ?? []), { ...r, cpuUs, clientCpuUs }])
    console.error(
      `round ${round + 1} ${c.name}: ${Math.round(r.callsPerSec)} calls/s, p50 ${r.p50ms.toFixed(2)} ms, p99 ${r.p99ms.toFixed(2)} ms, ${cpuUs.toFixed(1)} CPU us/call, errors ${r.errors}`,
    )
  }
}

const stat = (name: string) => {
  const runs = results.get(name)!
  return {
    rate: median(runs.map((r) => r.callsPerSec)),
    p50: median(runs.map((r) => r.p50ms)),
    p99: median(runs.map((r) => r.p99ms)),
    cpu: median(runs.map((r) => r.cpuUs)),
    clientCpu: median(runs.map((r) => r.clientCpuUs)),
    errors: runs.reduce((n, r) => n + r.errors, 0),
  }
}
const kernel = stat('armature kernel')
const bare = stat('bare grpc-js')
const rows = contenders.map((c) => {
  const r = stat(c.name)
  return `| ${c.name} | ${Math.round(r.rate).toLocaleString('en-US')} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${(r.rate / bare.rate).toFixed(2)} | ${r.cpu.toFixed(1)} | ${(bare.cpu / r.cpu).toFixed(2)} | ${r.clientCpu.toFixed(1)} | ${r.errors} |`
})
const rateRatio = kernel.rate / bare.rate
const cpuRatio = bare.cpu / kernel.cpu
const met = rateRatio >= 0.9 && cpuRatio >= 0.9
const verdict = met
  ? `Goal (>= 0.9x bare grpc-js) met: ${rateRatio.toFixed(2)}x the calls/s at ${cpuRatio.toFixed(2)}x the efficiency.`
  : `Goal (>= 0.9x bare grpc-js) not met: ${rateRatio.toFixed(2)}x the calls/s and ${cpuRatio.toFixed(2)}x the efficiency (server CPU per call).`
const range = (name: string) => {
  const rates = results.get(name)!.map((r) => Math.round(r.callsPerSec))
  return `${Math.min(...rates).toLocaleString('en-US')}-${Math.max(...rates).toLocaleString('en-US')}`
}
const spread = `Per round, the kernel did ${range('armature kernel')} calls/s and bare grpc-js ${range('bare grpc-js')}: on this shared machine the rate moves with whatever else runs, so the server CPU per operation is the steadier comparison.`
const report = `### gRPC unary echo (bench/grpc)

${new Date().toISOString().slice(0, 10)}, ${machine()}; \`npm run bench -- grpc\`. One grpc-js client channel in the benchmark process keeps ${concurrency} Unary calls in flight (\`armature.echo.Echo/Unary\`, message "hello") for ${duration} s after a 3 s warm-up; median of ${rounds} rounds, the order rotating each round; each server in its own process. The kernel serves the echo plugin (with health and reflection beside it); the bare server is grpc-js with the same proto, loader options and handler. Server CPU us/call is the server process's user+system time over the calls answered (from /proc): steadier than calls/s on a shared 2-core machine, where the client competes for the same cores.

| server | calls/s | p50 ms | p99 ms | calls/s x bare | server CPU us/call | efficiency x bare | client CPU us/call | errors |
|---|---:|---:|---:|---:|---:|---:|---:|---:|
${rows.join('\n')}

${verdict} ${spread} The kernel's per-call work over bare grpc-js is one map lookup for the current generation, the in-flight count and the per-method metrics.
`
console.log(report)
mkdirSync(join(root, 'bench/results'), { recursive: true })
writeFileSync(join(root, 'bench/results/grpc.md'), report)
process.exit(0)
