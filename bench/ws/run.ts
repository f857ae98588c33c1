// WebSocket echo messages/s through the kernel (the echo plugin's /echo/ws) vs a bare ws
// server answering the same JSON: same client, same run, each server in its own process.
import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import WebSocket from 'ws'
import { machine } from '../lib/load.ts'
import { cpuSeconds, startServer } from '../lib/server.ts'
import { ECHO_DIR } from '../../plugins/echo/test/support.ts'
import { median } from '../lib/stats.ts'

const root = join(import.meta.dirname, '../..')
const duration = Number(process.env.BENCH_DURATION ?? 5)
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50)
const inFlight = Number(process.env.BENCH_IN_FLIGHT ?? 10)
const rounds = Number(process.env.BENCH_ROUNDS ?? 5)

// A drop-in folder holding only the echo plugin.
const onlyEcho = mkdtempSync(join(tmpdir(), 'bench-plugins-'))
cpSync(ECHO_DIR, join(onlyEcho, 'echo'), { recursive: true, filter: (src) => !src.includes('node_modules') && !src.includes('/test') })

const contenders = [
  {
    name: 'armature kernel',
    command: [process.execPath, join(root, 'core/bin/armature.mjs'), 'start', '--plugins', onlyEcho],
    port: 18301,
    env: { LOG_LEVEL: 'warn', LOG_FILE: '/tmp/armature-bench-ws.log', GRPC_PORT: '0' },
  },
  { name: 'bare ws', command: [process.execPath, join(import.meta.dirname, 'bare-ws.mjs')], port: 18302, env: {} as Record<string, string> },
]

interface Run {
  messages: number
  perSec: number
  p50ms: number
  p99ms: number
  errors: number
  cpuUs: number
  clientCpuUs: number
}

/** `connections` sockets, each keeping `inFlight` messages unanswered while running. */
async function openClients(url: string) {
  let running = false
  let received = 0
  let errors = 0
  let outstanding = 0
  let latencies: number[] = []
  const sockets = await Promise.all(
    Array.from({ length: connections }, async () => {
      const ws = new WebSocket(url)
      // ws keeps message order, so the oldest send time belongs to the next reply.
      const sent: number[] = []
      const send = () => {
        sent.push(performance.now())
        outstanding++
        ws.send('hello')
      }
      ws.on('message', (data) => {
        outstanding--
        latencies.push(performance.now() - sent.shift()!)
        if (String(data).startsWith('{"error"')) errors++
        else received++
        if (running) send()
      })
      ws.on('error', () => errors++)
      await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject))
      return { ws, send }
    }),
  )
  return {
    async run(seconds: number): Promise<Omit<Run, 'cpuUs' | 'clientCpuUs'>> {
      received = 0
      errors = 0
      latencies = []
      running = true
      const started = performance.now()
      for (const s of sockets) for (let i = 0; i < inFlight; i++) s.send()
      await new Promise((r) => setTimeout(r, seconds * 1000))
      running = false
      const messages = received
      const elapsed = (performance.now() - started) / 1000
      while (outstanding > 0) await new Promise((r) => setTimeout(r, 10))
      const sorted = latencies.sort((a, b) => a - b)
      const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0
      return { messages, perSec: messages / elapsed, p50ms: at(0.5), p99ms: at(0.99), errors }
    },
    close() {
      for (const s of sockets) s.ws.terminate()
    },
  }
}

const results = new Map<string, Run[]>()
for (let round = 0; round < rounds; round++) {
  // Rotate who goes first: a shared machine drifts, and no contender should always get the quiet slot.
  const order = contenders.map((_, i) => contenders[(i + round) % contenders.length]!)
  for (const c of order) {
    const server = await startServer(c.command, `http://127.0.0.1:${c.port}/healthz`, { ...c.env, PORT: String(c.port), HOST: '127.0.0.1' }, root)
    const clients = await openClients(`ws://127.0.0.1:${c.port}/echo/ws`)
    await clients.run(3) // warm-up (the kernel's TypeScript is compiled on first use)
    const cpuBefore = cpuSeconds(server.child.pid!)
    const clientBefore = process.cpuUsage()
    const r = await clients.run(duration)
    const cpuUs = ((cpuSeconds(server.child.pid!) - cpuBefore) * 1e6) / r.messages
    const clientUsage = process.cpuUsage(clientBefore)
    const clientCpuUs = (clientUsage.user + clientUsage.system) / r.messages
    clients.close()
    await server.stop()
    results.set(c.name, [...(results.get(c.name) ?? []), { ...r, cpuUs, clientCpuUs }])
    console.error(
      `round ${round + 1} ${c.name}: ${Math.round(r.perSec)} msgs/s, p50 ${r.p50ms.toFixed(2)} ms, p99 ${r.p99ms.toFixed(2)} ms, ${cpuUs.toFixed(1)} CPU us/msg, errors ${r.errors}`,
    )
  }
}

const stat = (name: string) => {
  const runs = results.get(name)!
  return {
    rate: median(runs.map((r) => r.perSec)),
    p50: median(runs.map((r) => r.p50ms)),
    p99: median(runs.map((r) => r.p99ms)),
    cpu: median(runs.map((r) => r.cpuUs)),
    clientCpu: median(runs.map((r) => r.clientCpuUs)),
    errors: runs.reduce((n, r) => n + r.errors, 0),
  }
}
const kernel = stat('armature kernel')
const bare = stat('bare ws')
const rows = contenders.map((c) => {
  const r = stat(c.name)
  return `| ${c.name} | ${Math.round(r.rate).toLocaleString('en-US')} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${(r.rate / bare.rate).toFixed(2)} | ${r.cpu.toFixed(1)} | ${(bare.cpu / r.cpu).toFixed(2)} | ${r.clientCpu.toFixed(1)} | ${r.errors} |`
})
const rateRatio = kernel.rate / bare.rate
const cpuRatio = bare.cpu / kernel.cpu
const verdict =
  rateRatio >= 0.9 && cpuRatio >= 0.9
    ? `Goal (>= 0.9x bare ws) met: ${rateRatio.toFixed(2)}x the messages/s at ${cpuRatio.toFixed(2)}x the efficiency.`
    : `Goal (>= 0.9x bare ws) not met: ${rateRatio.toFixed(2)}x the messages/s and ${cpuRatio.toFixed(2)}x the efficiency (server CPU per message).`
const range = (name: string) => {
  const rates = results.get(name)!.map((r) => Math.round(r.perSec))
  return `${Math.min(...rates).toLocaleString('en-US')}-${Math.max(...rates).toLocaleString('en-US')}`
}
const spread = `Per round, the kernel did ${range('armature kernel')} msgs/s and bare ws ${range('bare ws')}: on this shared machine the rate moves with whatever else runs, so the server CPU per operation is the steadier comparison.`
const report = `### WebSocket echo (bench/ws)

${new Date().toISOString().slice(0, 10)}, ${machine()}; \`npm run bench -- ws\`. ${connections} ws clients in the benchmark process, each keeping ${inFlight} text messages ("hello") unanswered, for ${duration} s after a 3 s warm-up; median of ${rounds} rounds, the order rotating each round; each server in its own process. The kernel serves the echo plugin's \`/echo/ws\`; the bare server is node:http with a ws server (noServer) answering the same JSON \`{message,generation,sequence}\`. Server CPU us/msg is the server process's user+system time over the messages answered (from /proc): steadier than msgs/s on a shared 2-core machine, where the client competes for the same cores.

| server | msgs/s | p50 ms | p99 ms | msgs/s x bare | server CPU us/msg | efficiency x bare | client CPU us/msg | errors |
|---|---:|---:|---:|---:|---:|---:|---:|---:|
${rows.join('\n')}

${verdict} ${spread} Once a socket is upgraded, the plugin's handler is attached to the ws socket directly; the kernel adds routing at the upgrade, a ping every 30 s and, per send, one look at the socket's buffered bytes (\`ctx.ws.send\` and the \`WS_MAX_BUFFERED_BYTES\` cap).
`
console.log(report)
mkdirSync(join(root, 'bench/results'), { recursive: true })
writeFileSync(join(root, 'bench/results/ws.md'), report)
process.exit(0)
