// POST /analytics with the canonical request under wrk -t2 -c1000: the kernel with the analytics
// plugin on the local PostgreSQL (workers running, and ingest alone), beside fastify + pg with one
// INSERT per request (pool of 20), in the same run. Then a fixed 10k req/s for 30 s (hey -q)
// and how long the workers take to bring the backlog back to 0.
import { execFileSync, spawn } from 'node:child_process'
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { machine } from '../lib/load.ts'
import { cpuSeconds, startServer, type RunningServer } from '../lib/server.ts'

const root = join(import.meta.dirname, '../..')
const duration = Number(process.env.BENCH_DURATION ?? 30)
// Each contender first serves this long under the same load, not counted: JIT, pools and the accept queue warm up.
const warmup = Number(process.env.BENCH_WARMUP ?? 5)
const connections = Number(process.env.BENCH_CONNECTIONS ?? 1000)
const threads = Number(process.env.BENCH_THREADS ?? 2)
const rate = Number(process.env.BENCH_RATE ?? 10_000)
// Each hey worker waits for its answer before the next request: at q per second it holds its
// rate only while an answer takes under 1/q s, and group commit answers in tens of ms.
const heyPerWorker = Number(process.env.BENCH_HEY_QPS ?? 20)
// Both servers get a larger young generation: fewer scavenges cut the kernel's CPU per request by about a quarter here.
const nodeFlags = (process.env.BENCH_NODE_FLAGS ?? '--max-semi-space-size=64').split(' ').filter(Boolean)
const adminUrl = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test'
const BODY = '{"module":"settings","type":"alert","event":"click","name":"подтверждение выхода","data":{"action":"cancel"}}'
const HEADERS = {
  'X-Tantum-UserAgent': 'DeviceID=G1752G75-7C56-4G49-BGFA5ACBGC963471;DeviceType=iOS;OsVersion=15.5;AppVersion=4.3 (725)',
  'X-Tantum-Authorization': '2daba111-1e48-4ba1-8753-2daba1119a09',
  'Content-Type': 'application/json',
}

for (const tool of ['wrk', 'hey']) {
  try {
    execFileSync('which', [tool], { stdio: 'ignore' })
  } catch {
    throw new Error(`${tool} is not installed: apt-get install -y wrk hey`)
  }
}

// The listen backlog (the kernel's HTTP_BACKLOG, given to fastify too) is capped by somaxconn: raise it when lower.
const BACKLOG = 2048
const somaxconnBefore = Number(readFileSync('/proc/sys/net/core/somaxconn', 'utf8'))
let somaxconnNote = `net.core.somaxconn was ${somaxconnBefore}, not below the listen backlog of ${BACKLOG}: left as it was.`
if (somaxconnBefore < BACKLOG) {
  try {
    writeFileSync('/proc/sys/net/core/somaxconn', String(BACKLOG))
    somaxconnNote = `net.core.somaxconn was ${somaxconnBefore}, below the listen backlog of ${BACKLOG}: raised to ${BACKLOG} for the run (as root).`
  } catch (error) {
    somaxconnNote = `net.core.somaxconn is ${somaxconnBefore}, below the listen backlog of ${BACKLOG}, and could not be raised (${(error as Error).message}).`
  }
}

const dbName = `armature_bench_analytics_${process.pid}`
const admin = new pg.Client({ connectionString: adminUrl })
await admin.connect()
await admin.query(`CREATE DATABASE "${dbName}"`)
const dbUrl = new URL(adminUrl)
dbUrl.pathname = `/${dbName}`
const db = new pg.Pool({ connectionString: dbUrl.toString(), max: 2 })

const work = mkdtempSync(join(tmpdir(), 'bench-analytics-'))
const pluginsDir = join(work, 'plugins')
for (const name of ['db', 'analytics']) {
  const from = join(root, 'plugins', name)
  cpSync(from, join(pluginsDir, name), { recursive: true, filter: (src) => !/[\\/](node_modules|test)([\\/]|$)/.test(src.slice(from.length)) })
}

const script = join(work, 'post.lua')
writeFileSync(
  script,
  `wrk.method = "POST"
wrk.body = ${JSON.stringify(BODY)}
${Object.entries(HEADERS)
  .map(([k, v]) => `wrk.headers[${JSON.stringify(k)}] = ${JSON.stringify(v)}`)
  .join('\n')}
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) accepted = 0; other = 0 end
function response(status, headers, body)
  if status == 202 then accepted = accepted + 1 else other = other + 1 end
end
function done(summary, latency, requests)
  local a, o = 0, 0
  for _, t in ipairs(threads) do a = a + t:get("accepted"); o = o + t:get("other") end
  local e = summary.errors
  io.write(string.format('WRKJSON {"requests":%d,"durationUs":%d,"p50":%d,"p99":%d,"connect":%d,"read":%d,"write":%d,"timeout":%d,"accepted":%d,"other":%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), e.connect, e.read, e.write, e.timeout, a, o))
end
`,
)

interface WrkResult {
  requests: number
  rps: number
  p50ms: number
  p99ms: number
  socketErrors: { connect: number; read: number; write: number; timeout: number }
  accepted: number
  other: number
}

function wrk(url: string, seconds = duration): Promise<WrkResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('wrk', [`-t${threads}`, `-c${connections}`, `-d${seconds}s`, '--latency', '-s', script, url], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (out += d))
    child.on('error', reject)
    child.on('close', () => {
      const line = out.split('\n').find((l) => l.startsWith('WRKJSON '))
      if (!line) return reject(new Error(`wrk printed no result:\n${out}`))
      const r = JSON.parse(line.slice(8))
      resolve({
        requests: r.requests,
        rps: r.requests / (r.durationUs / 1e6),
        p50ms: r.p50 / 1000,
        p99ms: r.p99 / 1000,
        socketErrors: { connect: r.connect, read: r.read, write: r.write, timeout: r.timeout },
        accepted: r.accepted,
        other: r.other,
      })
    })
  })
}

const count = async (table: string) => Number((await db.query(`SELECT count(*)::text AS n FROM ${table}`)).rows[0].n)

let port = 18_400
async function kernel(env: Record<string, string>): Promise<RunningServer> {
  port++
  return startServer(
    [process.execPath, ...nodeFlags, join(root, 'core/bin/armature.mjs'), 'start', '--plugins', pluginsDir],
    `http://127.0.0.1:${port}/analytics/backlog`,
    {
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      LOG_FILE: join(work, `kernel-${port}.log`),
      DATA_DIR: join(work, 'data'),
      DATABASE_URL: dbUrl.toString(),
      DB_POOL_SIZE: '20',
      GRPC_PORT: '0',
      HTTPS_PORT: '0',
      ...env,
    },
    root,
  )
}

interface Row {
  name: string
  result: WrkResult
  stored: number
  cpuUsPerReq: number
}
const rows: Row[] = []

async function measure(name: string, server: RunningServer, url: string, table: string): Promise<void> {
  if (warmup > 0) {
    await wrk(url, warmup)
    await new Promise((r) => setTimeout(r, 3000))
  }
  const before = await count(table)
  const cpuBefore = cpuSeconds(server.child.pid!)
  const result = await wrk(url)
  const cpu = cpuSeconds(server.child.pid!) - cpuBefore
  // Requests in flight when wrk stopped are answered after it stopped listening: let them land.
  await new Promise((r) => setTimeout(r, 3000))
  const stored = (await count(table)) - before
  rows.push({ name, result, stored, cpuUsPerReq: (cpu * 1e6) / Math.max(1, result.requests) })
  console.log(
    `${name}: ${Math.round(result.rps)} req/s, p99 ${result.p99ms.toFixed(1)} ms, 202s ${result.accepted}, other ${result.other}, stored ${stored}, socket errors ${JSON.stringify(result.socketErrors)}`,
  )
}

const load = [loadavg()[0]!.toFixed(2)]
let drain: { sent: number; statuses: Record<string, number>; heyRps: number; maxPending: number; drainSeconds: number | null } | undefined
try {
  // 1. The kernel with its workers processing while it ingests.
  let server = await kernel({ ANALYTICS_WORKERS: '2' })
  await measure('Armature analytics (workers running)', server, `http://127.0.0.1:${port}/analytics`, 'raw_analytics')
  // Let the workers drain before the next contender.
  for (const deadline = Date.now() + 120_000; Date.now() < deadline;) {
    const b = (await (await fetch(`http://127.0.0.1:${port}/analytics/backlog`)).json()) as { pending: number; leased: number }
    if (b.pending + b.leased === 0) break
    await new Promise((r) => setTimeout(r, 500))
  }
  await server.stop()
  load.push(loadavg()[0]!.toFixed(2))

  // 2. Ingest alone.
  server = await kernel({ ANALYTICS_WORKERS: '0' })
  await measure('Armature analytics (ingest alone)', server, `http://127.0.0.1:${port}/analytics`, 'raw_analytics')
  await server.stop()
  load.push(loadavg()[0]!.toFixed(2))

  // 3. The baseline.
  port++
  const baseline = await startServer(
    [process.execPath, '--import', 'tsx', join(import.meta.dirname, 'baseline.ts')],
    `http://127.0.0.1:${port}/health`,
    { PORT: String(port), DATABASE_URL: dbUrl.toString(), POOL_SIZE: '20', BACKLOG: String(BACKLOG) },
    root,
  )
  await measure('fastify + pg, one INSERT per request (pool 20)', baseline, `http://127.0.0.1:${port}/analytics`, 'baseline_raw_analytics')
  await baseline.stop()
  load.push(loadavg()[0]!.toFixed(2))

  // 4. A fixed rate with the workers running, then the time until the backlog is 0 again.
  await db.query(`UPDATE raw_analytics SET state = 'done' WHERE state <> 'done'`)
  server = await kernel({ ANALYTICS_WORKERS: '2' })
  const backlogUrl = `http://127.0.0.1:${port}/analytics/backlog`
  const backlogNow = async () => {
    const b = (await (await fetch(backlogUrl)).json()) as { pending: number; leased: number }
    return b.pending + b.leased
  }
  // The same warm-up as the wrk runs, then a quiet start: the backlog at 0 before the fixed rate begins.
  if (warmup > 0) {
    await wrk(`http://127.0.0.1:${port}/analytics`, warmup)
    for (const deadline = Date.now() + 60_000; Date.now() < deadline && (await backlogNow()) > 0;) await new Promise((r) => setTimeout(r, 200))
    await new Promise((r) => setTimeout(r, 2000))
  }
  const heyWorkers = Math.ceil(rate / heyPerWorker)
  let maxPending = 0
  let sampling = true
  const sampler = (async () => {
    while (sampling) {
      const b = (await (await fetch(backlogUrl)).json()) as { pending: number; leased: number }
      maxPending = Math.max(maxPending, b.pending + b.leased)
      await new Promise((r) => setTimeout(r, 1000))
    }
  })()
  const hey = await new Promise<string>((resolve, reject) => {
    const args = ['-z', `${duration}s`, '-c', String(heyWorkers), '-q', String(heyPerWorker), '-m', 'POST', '-T', 'application/json', '-d', BODY]
    for (const [k, v] of Object.entries(HEADERS)) if (k !== 'Content-Type') args.push('-H', `${k}: ${v}`)
    const child = spawn('hey', [...args, `http://127.0.0.1:${port}/analytics`], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.on('error', reject)
    child.on('close', () => resolve(out))
  })
  const ended = Date.now()
  let drainSeconds: number | null = null
  for (const deadline = ended + 60_000; Date.now() < deadline;) {
    const b = (await (await fetch(backlogUrl)).json()) as { pending: number; leased: number }
    if (b.pending + b.leased === 0) {
      drainSeconds = (Date.now() - ended) / 1000
      break
    }
    await new Promise((r) => setTimeout(r, 200))
  }
  sampling = false
  await sampler
  await server.stop()
  const statuses: Record<string, number> = {}
  for (const match of hey.matchAll(/\[(\d{3})\]\s+(\d+) responses/g)) statuses[match[1]!] = Number(match[2])
  const heyRps = Number(/Requests\/sec:\s+([\d.]+)/.exec(hey)?.[1] ?? 0)
  drain = { sent: Object.values(statuses).reduce((a, b) => a + b, 0), statuses, heyRps, maxPending, drainSeconds }
  console.log(`fixed rate: ${heyRps} req/s, statuses ${JSON.stringify(statuses)}, backlog max ${maxPending}, back to 0 in ${drainSeconds ?? 'more than 60'} s`)
  load.push(loadavg()[0]!.toFixed(2))
} finally {
  await db.end()
  await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`)
  await admin.end()
}

const [withWorkers, alone, base] = rows as [Row, Row, Row]
const fmt = (n: number) => Math.round(n).toLocaleString('en-US')
const errors = (r: WrkResult) => r.socketErrors.connect + r.socketErrors.read + r.socketErrors.write + r.socketErrors.timeout
const table = rows
  .map(
    (r) =>
      `| ${r.name} | ${fmt(r.result.rps)} | ${r.result.p50ms.toFixed(2)} | ${r.result.p99ms.toFixed(2)} | ${errors(r.result)} (${Object.entries(r.result.socketErrors)
        .map(([k, v]) => `${k} ${v}`)
        .join(
          ', ',
        )}) | ${fmt(r.result.accepted)} | ${fmt(r.result.other)} | ${fmt(r.stored)} | ${r.stored - r.result.accepted} | ${r.cpuUsPerReq.toFixed(1)} | ${(r.result.rps / base.result.rps).toFixed(2)}x |`,
  )
  .join('\n')
const goal = (ok: boolean) => (ok ? 'met' : 'missed')
const date = new Date().toISOString().slice(0, 10)
const report = `# Analytics ingest (bench/analytics)

${date}, ${machine()}; wrk -t${threads} -c${connections} -d${duration}s with a Lua script sending the canonical request (shared/data/analytics-request.http), after ${warmup} s of the same load not counted (BENCH_WARMUP), wrk and every server on the same 2-core machine; PostgreSQL ${(await serverVersion()) ?? ''} on the same machine (local, default settings, synchronous_commit on). Both servers run with \`${nodeFlags.join(' ') || 'no Node flags'}\` (BENCH_NODE_FLAGS). Load average (1 min) before each part: ${load.join(', ')}. ${somaxconnNote}

| server | req/s | p50 ms | p99 ms | socket errors | 202s | other answers | rows stored | rows - 202s | server CPU us/req | req/s x baseline |
|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|
${table}

"rows - 202s" counts requests that were in flight when wrk stopped: stored and answered, but after wrk stopped reading (it counts only the answers it saw); it is at most the ${connections} connections. A 202 without its row would make it negative.

Fixed rate with the workers running, after the same warm-up and with the backlog at 0: hey -z ${duration}s -q ${heyPerWorker} per worker, ${Math.ceil(rate / heyPerWorker)} workers (${fmt(rate)} req/s asked; a hey worker sends one request at a time, so each may take up to ${Math.round(1000 / heyPerWorker)} ms): ${drain ? `${fmt(drain.heyRps)} req/s held, answers ${JSON.stringify(drain.statuses)}, backlog (pending + leased) at most ${fmt(drain.maxPending)} during the run, back to 0 ${drain.drainSeconds === null ? 'not within 60 s' : `${drain.drainSeconds.toFixed(1)} s`} after it ended` : 'not run'}.

Goals:
- at least 25,000 req/s with the workers running: **${goal(withWorkers.result.rps >= 25_000)}** (${fmt(withWorkers.result.rps)}; ingest alone ${fmt(alone.result.rps)}; the seed reported 11,206 on 8 cores).
- at least 3x the one-insert-per-request baseline: **${goal(withWorkers.result.rps >= 3 * base.result.rps)}** (${(withWorkers.result.rps / base.result.rps).toFixed(2)}x with workers, ${(alone.result.rps / base.result.rps).toFixed(2)}x ingest alone).
- 0 socket errors: **${goal(errors(withWorkers.result) === 0 && errors(alone.result) === 0)}** (${errors(withWorkers.result)} with workers, ${errors(alone.result)} ingest alone).
- no answer but 202, and every 202 a stored row: **${goal(withWorkers.result.other === 0 && alone.result.other === 0 && withWorkers.stored >= withWorkers.result.accepted && alone.stored >= alone.result.accepted)}**.
- backlog back to 0 within 10 s after ${duration} s at ${fmt(rate)} req/s: **${drainGoal()}**.

How to read it: the kernel, wrk and PostgreSQL share the machine's two cores, so req/s is bounded by the CPU each request costs everywhere (the server CPU column is the kernel's or fastify's process alone; PostgreSQL's own CPU comes on top, and the baseline's one commit per request costs PostgreSQL the most). "With the workers running" means each row is also claimed, processed and completed in the same run, on the same cores. wrk counts a request unanswered after 2 s as a socket timeout; none of those is lost or refused (no other answer than 202 was given, and "rows - 202s" covers them). The load average above says how much else the machine ran at the time: compare the rows of one run with each other, not with runs on a quieter machine.
`

function drainGoal(): string {
  if (!drain) return 'not run'
  if (drain.heyRps < 0.97 * rate)
    return `not shown: the rate asked was not held on this machine (${fmt(drain.heyRps)} of ${fmt(rate)} req/s); at that rate the backlog was back to 0 ${drain.drainSeconds === null ? 'not within 60 s' : `${drain.drainSeconds.toFixed(1)} s after`}`
  return `${goal(drain.drainSeconds !== null && drain.drainSeconds <= 10)} (${fmt(drain.heyRps)} req/s held)`
}
writeFileSync(join(root, 'bench/results/analytics.md'), report)
console.log(report)

async function serverVersion(): Promise<string | undefined> {
  try {
    const client = new pg.Client({ connectionString: adminUrl })
    await client.connect()
    const { rows } = await client.query('SHOW server_version')
    await client.end()
    return String(rows[0].server_version).split(' ')[0]
  } catch {
    return undefined
  }
}
