// Stop time (SIGTERM to process exit), idle and under load, for the kernel serving the echo
// plugin and for fastify's close() with the same HTTP keep-alive and WebSocket load, in the
// same run. What each client saw is recorded beside the time: statuses, close codes, errors.
import { spawn, type ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { Agent, request } from 'node:http'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { spawnKernel } from '@armature/testing'
import { machine } from '../lib/load.ts'
import { ECHO_DIR } from '../../plugins/echo/test/support.ts'
import { startMixedLoad, type MixedOutcome } from '../../plugins/echo/test/mixed-load.ts'
import { median } from '../lib/stats.ts'

const root = join(import.meta.dirname, '../..')
const rounds = Number(process.env.BENCH_ROUNDS ?? 3)
const AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672'
const TIMEOUT_MS = 10_000
/** A server still running this long after SIGTERM is killed and reported as hung. */
const HUNG_MS = 15_000
const SLOW_REQUESTS = 50
const SLOW_MS = 1500
/** SIGTERM goes this long after the slow requests are sent, so each run stops at the same point of them. */
const SIGNAL_AFTER_MS = 300

const onlyEcho = mkdtempSync(join(tmpdir(), 'bench-plugins-'))
cpSync(ECHO_DIR, join(onlyEcho, 'echo'), { recursive: true, filter: (src) => !src.includes('node_modules') && !src.includes('/test') })

interface Server {
  child: ChildProcess
  url: string
  grpcAddress: string
  stderr(): string
  /** The kernel's shutdown phase lines (empty for fastify). */
  phases(): string[]
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

async function startKernel(env: Record<string, string>): Promise<Server> {
  const k = await spawnKernel({ args: ['--plugins', onlyEcho], env: { GRPC_PORT: '0', SHUTDOWN_TIMEOUT_MS: String(TIMEOUT_MS), ...env } })
  const grpcLine = k.messages().find((m) => m.startsWith('grpc listening on '))
  return {
    child: k.child,
    url: k.url,
    grpcAddress: grpcLine?.slice('grpc listening on '.length) ?? '',
    stderr: k.stderr,
    phases: () => k.messages().filter((m) => m.startsWith('shutdown phase ')),
    exited: k.exited,
  }
}

async function startFastify(port: number): Promise<Server> {
  const child = spawn(process.execPath, [join(import.meta.dirname, 'fastify-server.mjs')], {
    cwd: root,
    env: { ...process.env, PORT: String(port) },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  child.stderr!.on('data', (d: Buffer) => (stderr += d))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })))
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 30_000
  for (;;) {
    try {
      if ((await fetch(`${url}/healthz`)).ok) break
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`fastify did not start: ${stderr}`)
    await new Promise((r) => setTimeout(r, 100))
  }
  return { child, url, grpcAddress: '127.0.0.1:1', stderr: () => stderr, phases: () => [], exited }
}

/** One slow request; resolves with its status (0 = connection error) and when it ended. */
function slowRequest(url: string, agent: Agent): Promise<{ status: number; endedAt: number; connection?: string }> {
  return new Promise((resolve) => {
    const done = (status: number, connection?: string) => resolve({ status, endedAt: performance.now(), ...(connection ? { connection } : {}) })
    const req = request(`${url}/echo/slow?ms=${SLOW_MS}`, { agent }, (res) => {
      res.resume()
      res.on('end', () => done(res.statusCode!, res.headers.connection))
      res.on('error', () => done(0))
    })
    req.on('error', () => done(0))
    req.end()
  })
}

function reachable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    socket.setTimeout(1000, () => (socket.destroy(), resolve(false)))
    socket.once('connect', () => (socket.end(), resolve(true)))
    socket.once('error', () => resolve(false))
  })
}

interface Stop {
  stopMs: number
  /** From the last slow reply to the exit (the time spent after the work was done). */
  afterLastReplyMs?: number
  exitCode: number | null
  hung: boolean
  slowOk?: number
  /** The Connection header of the in-flight replies: "close" lets a keep-alive client let go. */
  replyConnection?: string
  outcome?: MixedOutcome
  stderr: string
  phases: string[]
}

async function signal(server: Server): Promise<{ stopMs: number; exitCode: number | null; hung: boolean; signalledAt: number }> {
  const signalledAt = performance.now()
  server.child.kill('SIGTERM')
  let hung = false
  const timer = setTimeout(() => {
    hung = true
    server.child.kill('SIGKILL')
  }, HUNG_MS)
  const exit = await server.exited
  clearTimeout(timer)
  return { stopMs: performance.now() - signalledAt, exitCode: exit.code, hung, signalledAt }
}

async function idleStop(server: Server): Promise<Stop> {
  await fetch(`${server.url}/healthz`).then((r) => r.text())
  await new Promise((r) => setTimeout(r, 500))
  const s = await signal(server)
  return { stopMs: s.stopMs, exitCode: s.exitCode, hung: s.hung, stderr: server.stderr(), phases: server.phases() }
}

async function loadedStop(server: Server, load: { grpcStreams: number; amqpQueue?: string }): Promise<Stop> {
  const mixed = await startMixedLoad({
    httpUrl: server.url,
    grpcAddress: server.grpcAddress,
    ...(load.amqpQueue ? { amqpUrl: AMQP_URL, requestQueue: load.amqpQueue, amqpMessages: 500 } : {}),
    idleSockets: 200,
    // The slow requests are sent here instead, to know when each one ended.
    slowRequests: 0,
    websockets: 100,
    grpcStreams: load.grpcStreams,
  })
  const agent = new Agent({ keepAlive: true, maxSockets: 1000 })
  try {
    const slow = Array.from({ length: SLOW_REQUESTS }, () => slowRequest(server.url, agent))
    await new Promise((r) => setTimeout(r, SIGNAL_AFTER_MS))
    const [s, replies, outcome] = await Promise.all([signal(server), Promise.all(slow), mixed.outcome()])
    const lastReply = Math.max(...replies.map((r) => r.endedAt))
    return {
      stopMs: s.stopMs,
      afterLastReplyMs: s.stopMs - (lastReply - s.signalledAt),
      exitCode: s.exitCode,
      hung: s.hung,
      slowOk: replies.filter((r) => r.status === 200).length,
      replyConnection: [...new Set(replies.map((r) => r.connection ?? '(none)'))].join(', '),
      outcome,
      stderr: server.stderr(),
      phases: server.phases(),
    }
  } finally {
    agent.destroy()
    await mixed.cleanup()
  }
}

const amqp = await reachable(5672)
const fastifyVersion = (JSON.parse(readFileSync(join(root, 'node_modules/fastify/package.json'), 'utf8')) as { version: string }).version
const allScenarios = [
  { name: 'idle', server: 'armature kernel', run: async () => idleStop(await startKernel({})) },
  { name: 'idle', server: 'fastify close()', run: async () => idleStop(await startFastify(18401)) },
  { name: 'HTTP + WebSocket load', server: 'armature kernel', run: async () => loadedStop(await startKernel({}), { grpcStreams: 0 }) },
  { name: 'HTTP + WebSocket load', server: 'fastify close()', run: async () => loadedStop(await startFastify(18402), { grpcStreams: 0 }) },
  {
    name: amqp ? 'mixed load (+ gRPC streams, AMQP)' : 'mixed load (+ gRPC streams)',
    server: 'armature kernel',
    run: async () => {
      if (!amqp) return loadedStop(await startKernel({}), { grpcStreams: 20 })
      const queue = `armature-bench-echo-${randomUUID()}`
      return loadedStop(await startKernel({ AMQP_URL, ECHO_REQUEST_QUEUE: queue, ECHO_WORK_MS: '20' }), { grpcStreams: 20, amqpQueue: queue })
    },
  },
]

// BENCH_ONLY=fastify (or kernel, idle, load...) runs the scenarios whose server or name contains it.
const only = process.env.BENCH_ONLY?.toLowerCase()
const scenarios = allScenarios.filter((s) => !only || `${s.server} ${s.name}`.toLowerCase().includes(only))

const results = new Map<number, Stop[]>()
for (let round = 0; round < rounds; round++) {
  // Rotate who goes first: a shared machine drifts, and no scenario should always get the quiet slot.
  for (let i = 0; i < scenarios.length; i++) {
    const index = (i + round) % scenarios.length
    const s = scenarios[index]!
    const r = await s.run()
    results.set(index, [...(results.get(index) ?? []), r])
    console.error(
      `round ${round + 1} ${s.server}, ${s.name}: stop ${Math.round(r.stopMs)} ms${r.afterLastReplyMs !== undefined ? ` (${Math.round(r.afterLastReplyMs)} ms after the last reply)` : ''}, exit ${r.exitCode}${r.hung ? ' (hung, killed)' : ''}${r.slowOk !== undefined ? `, slow 200: ${r.slowOk}/${SLOW_REQUESTS} (Connection: ${r.replyConnection})` : ''}${r.outcome ? `, ws ${histogram(r.outcome.wsCloseCodes)}` : ''}${r.outcome?.grpcStatuses.length ? `, grpc ${histogram(r.outcome.grpcStatuses)}` : ''}${r.outcome?.amqp ? `, amqp ${JSON.stringify(r.outcome.amqp)}` : ''}`,
    )
  }
}

function histogram(values: number[]): string {
  const counts = new Map<number, number>()
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1)
  return [...counts]
    .sort((a, b) => a[0] - b[0])
    .map(([v, n]) => `${v} x${n}`)
    .join(', ')
}
const GRPC_STATUS: Record<number, string> = { 0: 'OK', 1: 'CANCELLED', 4: 'DEADLINE_EXCEEDED', 13: 'INTERNAL', 14: 'UNAVAILABLE' }

const rows = scenarios.map((s, index) => {
  const runs = results.get(index)!
  const loaded = runs[0]!.outcome !== undefined
  const stderrLines = runs.reduce((n, r) => n + r.stderr.split('\n').filter(Boolean).length, 0)
  const failures = [
    runs.some((r) => r.hung) ? `hung ${runs.filter((r) => r.hung).length}x (killed after ${HUNG_MS / 1000} s)` : '',
    runs.some((r) => r.exitCode !== 0) ? `exit codes ${histogram(runs.map((r) => r.exitCode ?? -1))}` : '',
    stderrLines ? `${stderrLines} stderr lines` : '',
    loaded && runs.some((r) => r.slowOk !== SLOW_REQUESTS) ? `${runs.reduce((n, r) => n + SLOW_REQUESTS - r.slowOk!, 0)} slow requests failed` : '',
  ].filter(Boolean)
  const grpc = runs.flatMap((r) => r.outcome?.grpcStatuses ?? [])
  const amqpRuns = runs.map((r) => r.outcome?.amqp).filter((a) => a !== undefined)
  const amqpText = amqpRuns.length
    ? amqpRuns.map((a) => `${a.replies} answered + ${a.leftInQueue} back in queue = ${a.replies + a.leftInQueue}/${a.published}, ${a.duplicates} dup`).join('; ')
    : '-'
  return `| ${s.name} | ${s.server} | ${Math.round(median(runs.map((r) => r.stopMs)))} | ${Math.round(Math.max(...runs.map((r) => r.stopMs)))} | ${loaded ? Math.round(median(runs.map((r) => r.afterLastReplyMs!))) : '-'} | ${loaded ? `${runs.reduce((n, r) => n + r.slowOk!, 0)}/${SLOW_REQUESTS * runs.length}` : '-'} | ${loaded ? [...new Set(runs.map((r) => r.replyConnection))].join(', ') : '-'} | ${loaded ? histogram(runs.flatMap((r) => r.outcome!.wsCloseCodes)) : '-'} | ${grpc.length ? histogram(grpc).replace(/(\d+) x/g, (_, code) => `${GRPC_STATUS[Number(code)] ?? code} x`) : '-'} | ${amqpText} | ${failures.join('; ') || 'none'} |`
})

const runsOf = (server: string, name: string) => {
  const index = scenarios.findIndex((s) => s.server === server && s.name.startsWith(name))
  return index === -1 ? undefined : results.get(index)
}
const stopText = (runs: Stop[] | undefined) => {
  if (!runs) return 'not run'
  const hung = runs.filter((r) => r.hung).length
  return hung ? `did not exit in ${hung} of ${runs.length} rounds (killed after ${HUNG_MS / 1000} s)` : `stops in ${Math.round(median(runs.map((r) => r.stopMs)))} ms`
}
const kernelLoad = runsOf('armature kernel', 'HTTP')
const fastifyLoad = runsOf('fastify close()', 'HTTP')
const mixed = runsOf('armature kernel', 'mixed')
const fastifyHung = fastifyLoad?.some((r) => r.hung)
const fastifyWs = fastifyLoad ? histogram(fastifyLoad.flatMap((r) => r.outcome!.wsCloseCodes)) : ''
const findings = [
  `Idle, the kernel ${stopText(runsOf('armature kernel', 'idle'))} and fastify ${stopText(runsOf('fastify close()', 'idle'))}.`,
  `Under the same HTTP and WebSocket load, the kernel ${stopText(kernelLoad)} and fastify ${stopText(fastifyLoad)}; most of a clean stop is the ${SLOW_MS - SIGNAL_AFTER_MS} ms of work left in the slow requests, which both let finish with 200.`,
  fastifyHung
    ? `fastify's \`close()\` does not end on its own: it closes the connections idle at the moment it is called, but the keep-alive connections that carried the in-flight requests get replies with \`Connection: ${fastifyLoad!.map((r) => r.replyConnection).find(Boolean)}\` and stay open while the client keeps them, so the server waits until the client lets go or the keep-alive timeout ends them (72 s by default in fastify; not waited for here). The kernel answers in-flight requests during a stop with \`Connection: ${kernelLoad?.map((r) => r.replyConnection).find(Boolean) ?? '?'}\` and closes what remains once they are answered.`
    : '',
  fastifyLoad
    ? `WebSocket clients of fastify saw ${fastifyWs} (@fastify/websocket's preClose calls \`close()\` with no code, which the client reports as 1005 "no status"); the kernel's saw ${histogram(kernelLoad?.flatMap((r) => r.outcome!.wsCloseCodes) ?? [])} (1001 going away).`
    : '',
  mixed
    ? `With the mixed load the kernel ${stopText(mixed)}: gRPC server streams that do not end by themselves get a grace of a quarter of the shutdown timeout (at most 5 s), then end with UNAVAILABLE, so the stop time there is that grace, not the HTTP drain.`
    : '',
].filter(Boolean)
const phases = mixed?.at(-1)?.phases ?? []

const report = `### Shutdown under load (bench/shutdown)

${new Date().toISOString().slice(0, 10)}, ${machine()}; \`npm run bench -- shutdown\`. Stop time is SIGTERM to process exit, measured by the parent. Each server runs in its own process: the kernel with the echo plugin (\`SHUTDOWN_TIMEOUT_MS=${TIMEOUT_MS}\`), and fastify ${fastifyVersion} with @fastify/websocket serving the same slow route and WebSocket echo, which on SIGTERM awaits \`app.close()\` and exits. Load: 200 idle keep-alive sockets, ${SLOW_REQUESTS} requests to \`/echo/slow?ms=${SLOW_MS}\` (SIGTERM ${SIGNAL_AFTER_MS} ms after they are sent, so about ${SLOW_MS - SIGNAL_AFTER_MS} ms of their work remains), 100 WebSocket clients; the mixed load adds 20 gRPC server streams that never end on their own${amqp ? ' and an AMQP consumer (`ECHO_WORK_MS=20`) with 500 queued messages, on a queue of its own deleted afterwards' : ' (RabbitMQ was not reachable on 127.0.0.1:5672, so no AMQP)'}. Median and max of ${rounds} rounds, the order rotating each round; counts are summed over the rounds.

| scenario | server | stop ms (median) | stop ms (max) | ms after the last reply | in-flight requests answered 200 | their Connection header | WebSocket close codes | gRPC stream statuses | AMQP per round | errors |
|---|---|---:|---:|---:|---:|---|---|---|---|---|
${rows.join('\n')}

${findings.join('\n\n')}

Kernel shutdown phases in the last mixed-load round:

${phases.map((p) => `- ${p}`).join('\n') || '- (none logged)'}
`
console.log(report)
mkdirSync(join(root, 'bench/results'), { recursive: true })
writeFileSync(join(root, 'bench/results/shutdown.md'), report)
process.exit(0)
