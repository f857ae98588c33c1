// bench/orders: (1) orders/s from RabbitMQ into PostgreSQL, the orders plugin (validated, one
// transaction per order, idempotent, ack after commit) beside the typical consumer (ack first,
// one autocommit INSERT per table) in the same run; (2) a cached GET /api/orders/:uid beside
// GET /hello in one kernel.
import { spawn } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import amqp from 'amqplib'
import pg from 'pg'
import { Faker, en } from '@faker-js/faker'
import { fakeOrder, MIGRATIONS } from '../../plugins/orders/src/index.ts'
import { load, machine } from '../lib/load.ts'
import { cpuSeconds, startServer } from '../lib/server.ts'
import { median } from '../lib/stats.ts'

const root = join(import.meta.dirname, '../..')
const AMQP_URL = process.env.AMQP_URL || 'amqp://guest:guest@127.0.0.1:5672'
const ADMIN_URL = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test'
// Long enough to measure the steady state: a round of 5,000 lasts under a second and is mostly JIT warm-up.
const orders = Number(process.env.BENCH_ORDERS ?? 30_000)
const rounds = Number(process.env.BENCH_ROUNDS ?? 3)
const duration = Number(process.env.BENCH_DURATION ?? 5)
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50)
// The baseline's prefetch; acknowledging on receipt, it holds no message unacknowledged anyway.
const prefetch = 32
const poolSize = 10
const port = Number(process.env.BENCH_PORT ?? 18141)
// For profiling: BENCH_SECTIONS=consume BENCH_SIDES=armature BENCH_KERNEL_FLAGS="--cpu-prof --cpu-prof-dir=/tmp/prof"
// runs that much only (and writes no results file).
const onlySections = process.env.BENCH_SECTIONS?.split(',')
const onlySides = process.env.BENCH_SIDES?.split(',')
// Given to both consumers' node (as bench/analytics does): a larger young generation, fewer scavenges.
const nodeFlags = (process.env.BENCH_NODE_FLAGS ?? '--max-semi-space-size=64').split(' ').filter(Boolean)
const kernelFlags = [...nodeFlags, ...(process.env.BENCH_KERNEL_FLAGS?.split(' ').filter(Boolean) ?? [])]
const partial = onlySections !== undefined || onlySides !== undefined

const loadBefore = loadavg()[0]!.toFixed(1)
const work = mkdtempSync(join(tmpdir(), 'bench-orders-'))
const pluginsDir = join(work, 'plugins')
for (const name of ['hello', 'db', 'orders']) {
  cpSync(join(root, 'plugins', name), join(pluginsDir, name), {
    recursive: true,
    filter: (src) => !/[\\/](node_modules|test)([\\/]|$)/.test(src.slice(join(root, 'plugins', name).length)),
  })
}
const faker = new Faker({ locale: [en] })
faker.seed(2024)

async function sql<T = unknown>(url: string, text: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return (await client.query(text)).rows as T[]
  } finally {
    await client.end()
  }
}

/** A fresh database with the orders tables (created the way the plugin's migrations do). */
async function freshDatabase(name: string): Promise<string> {
  await sql(ADMIN_URL, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
  await sql(ADMIN_URL, `CREATE DATABASE "${name}"`)
  const url = new URL(ADMIN_URL)
  url.pathname = `/${name}`
  return url.toString()
}

/** CPU seconds of each `postgres` process now (the server's backends, WAL writer, checkpointer), by pid. */
function postgresCpuSeconds(): Map<number, number> {
  const byPid = new Map<number, number>()
  for (const entry of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(entry)) continue
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === 'postgres') byPid.set(Number(entry), cpuSeconds(Number(entry)))
    } catch {
      // exited meanwhile
    }
  }
  return byPid
}

/** CPU seconds the `postgres` processes alive now used since `before` (a process started since counts whole). */
function postgresCpuSince(before: Map<number, number>): number {
  let total = 0
  for (const [pid, seconds] of postgresCpuSeconds()) total += seconds - (before.get(pid) ?? 0)
  return total
}

/** Fills the queue with `orders` fake orders, confirmed, before the consumer starts. */
async function fill(queue: string): Promise<void> {
  const connection = await amqp.connect(AMQP_URL)
  const channel = await connection.createConfirmChannel()
  await channel.deleteQueue(queue).catch(() => undefined)
  await channel.assertQueue(queue, { durable: true })
  for (let i = 0; i < orders; i++) channel.sendToQueue(queue, Buffer.from(JSON.stringify(fakeOrder(faker))), { persistent: true })
  await channel.waitForConfirms()
  await connection.close()
}

async function dropQueues(...queues: string[]): Promise<void> {
  const connection = await amqp.connect(AMQP_URL)
  const channel = await connection.createChannel()
  for (const q of queues) await channel.deleteQueue(q).catch(() => undefined)
  await connection.close()
}

/** Orders per second from the first commit to the last, read from the rows' stored_at. */
async function consumeRate(url: string): Promise<{ rate: number; rows: number }> {
  const deadline = Date.now() + 300_000
  for (;;) {
    const [{ n }] = await sql<{ n: number }>(url, 'SELECT count(*)::int AS n FROM payments')
    if (n >= orders) break
    if (Date.now() > deadline) throw new Error(`only ${n} of ${orders} stored`)
    await new Promise((r) => setTimeout(r, 100))
  }
  // Both sides fill stored_at with now() at their commit of the orders row.
  const [r] = await sql<{ rows: number; seconds: number }>(url, 'SELECT count(*)::int AS rows, extract(epoch FROM max(stored_at) - min(stored_at))::float8 AS seconds FROM orders')
  return { rate: r!.rows / r!.seconds, rows: r!.rows }
}

/** Kernel and PostgreSQL CPU per order consumed, in us, of the Armature rounds. */
const kernelCpu: number[] = []
const postgresCpu: number[] = []

async function armatureRound(round: number): Promise<number> {
  const queue = `bench-orders-armature-${round}`
  const url = await freshDatabase(`bench_orders_armature_${round}`)
  await fill(queue)
  const pgBefore = postgresCpuSeconds()
  const server = await startArmature(url, queue, { DB_POOL_SIZE: String(poolSize) })
  // The kernel's start (migrations, warm-up) is not consumption: its CPU is counted from here, with the orders stored by now.
  const kernelReady = cpuSeconds(server.child.pid!)
  const [{ n: storedAtReady }] = await sql<{ n: number }>(url, 'SELECT count(*)::int AS n FROM orders')
  try {
    const { rate } = await consumeRate(url)
    const consumed = orders - storedAtReady
    kernelCpu.push(((cpuSeconds(server.child.pid!) - kernelReady) * 1e6) / consumed)
    // The kernel's pool and the server's own processes, migrations included; short-lived connections (the polling) not.
    postgresCpu.push((postgresCpuSince(pgBefore) * 1e6) / orders)
    console.error(`  kernel ${kernelCpu.at(-1)!.toFixed(0)} CPU us/order (${consumed} after start), PostgreSQL ${postgresCpu.at(-1)!.toFixed(0)} CPU us/order`)
    return rate
  } finally {
    await server.stop()
    await dropQueues(queue, `${queue}.dead`)
    await sql(ADMIN_URL, `DROP DATABASE IF EXISTS "bench_orders_armature_${round}" WITH (FORCE)`)
  }
}

async function baselineRound(round: number): Promise<number> {
  const queue = `bench-orders-baseline-${round}`
  const name = `bench_orders_baseline_${round}`
  const url = await freshDatabase(name)
  for (const m of MIGRATIONS) await sql(url, m.sql)
  await fill(queue)
  const child = spawn(process.execPath, [...nodeFlags, '--import', 'tsx', join(import.meta.dirname, 'baseline.ts'), AMQP_URL, url, queue, String(prefetch), String(poolSize)], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  try {
    return (await consumeRate(url)).rate
  } finally {
    child.kill('SIGTERM')
    await new Promise((r) => child.once('exit', r))
    await dropQueues(queue)
    await sql(ADMIN_URL, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
  }
}

/**
 * RabbitMQ's own delivery rate on this machine, the ceiling of any consumer: an amqplib consumer
 * that stores nothing, acknowledging each message or, as the kernel does, the run of one turn.
 */
async function rabbitAloneRound(round: number, multiple: boolean): Promise<number> {
  const queue = `bench-orders-rabbit-${round}`
  await fill(queue)
  const connection = await amqp.connect(AMQP_URL)
  const channel = await connection.createChannel()
  await channel.prefetch(1024)
  let got = 0
  let last: amqp.Message | undefined
  let first = 0
  const seconds = await new Promise<number>((resolve) => {
    void channel.consume(queue, (message) => {
      if (!message) return
      if (got++ === 0) first = performance.now()
      if (!multiple) channel.ack(message)
      else {
        if (!last)
          setImmediate(() => {
            channel.ack(last!, true)
            last = undefined
          })
        last = message
      }
      if (got === orders) setImmediate(() => resolve((performance.now() - first) / 1000))
    })
  })
  await connection.close()
  await dropQueues(queue)
  return orders / seconds
}

// (1) consume rate
const armature: number[] = []
const baseline: number[] = []
const rabbitEach: number[] = []
const rabbitMultiple: number[] = []
for (let round = 0; round < rounds && (!onlySections || onlySections.includes('consume')); round++) {
  // Alternate who goes first: a shared machine drifts.
  const sides = round % 2 === 0 ? (['armature', 'baseline'] as const) : (['baseline', 'armature'] as const)
  for (const side of sides) {
    if (onlySides && !onlySides.includes(side)) continue
    const rate = side === 'armature' ? await armatureRound(round) : await baselineRound(round)
    ;(side === 'armature' ? armature : baseline).push(rate)
    console.error(`round ${round + 1} ${side}: ${Math.round(rate)} orders/s`)
  }
  if (onlySides && !onlySides.includes('rabbitmq')) continue
  rabbitEach.push(await rabbitAloneRound(round, false))
  rabbitMultiple.push(await rabbitAloneRound(round, true))
  console.error(`round ${round + 1} RabbitMQ alone: ${Math.round(rabbitEach.at(-1)!)} msg/s acking each, ${Math.round(rabbitMultiple.at(-1)!)} acking in bulk`)
}

if (onlySections && !onlySections.includes('get')) process.exit(0)
// (2) cached GET vs /hello, one kernel; the orders it serves are stored first.
const getUrl = await freshDatabase('bench_orders_get')
const getQueue = 'bench-orders-get'
await fill(getQueue)
const server = await startArmature(getUrl, getQueue)
const http = new Map<string, { rps: number[]; p99: number[]; cpu: number[]; failures: number }>()
let tool = ''
try {
  await consumeRate(getUrl)
  const [{ order_uid: uid }] = await sql<{ order_uid: string }>(getUrl, 'SELECT order_uid FROM orders ORDER BY created_ms DESC LIMIT 1')
  const probe = await fetch(`http://127.0.0.1:${port}/api/orders/${uid}`)
  await probe.arrayBuffer()
  if (probe.headers.get('x-cache') !== 'hit') throw new Error(`the order is not cached (X-Cache ${probe.headers.get('x-cache')})`)
  const targets = [
    { name: 'GET /hello', path: '/hello' },
    { name: 'GET /api/orders/:uid (cached)', path: `/api/orders/${uid}` },
  ]
  for (const t of targets) await load({ url: `http://127.0.0.1:${port}${t.path}`, connections, durationSec: 2 })
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? targets : [...targets].reverse()
    for (const t of order) {
      const cpuBefore = cpuSeconds(server.child.pid!)
      const r = await load({ url: `http://127.0.0.1:${port}${t.path}`, connections, durationSec: duration })
      tool = r.tool
      const cpu = ((cpuSeconds(server.child.pid!) - cpuBefore) * 1e6) / r.requests
      const s = http.get(t.name) ?? { rps: [], p99: [], cpu: [], failures: 0 }
      s.rps.push(r.rps)
      s.p99.push(r.p99ms)
      s.cpu.push(cpu)
      s.failures += r.errors + r.non2xx
      http.set(t.name, s)
      console.error(`round ${round + 1} ${t.name}: ${Math.round(r.rps)} req/s, p99 ${r.p99ms.toFixed(2)} ms, ${cpu.toFixed(1)} CPU us/req`)
    }
  }
} finally {
  await server.stop()
  await dropQueues(getQueue, `${getQueue}.dead`)
  await sql(ADMIN_URL, 'DROP DATABASE IF EXISTS "bench_orders_get" WITH (FORCE)')
}

// A partial (profiling) run prints its rounds only.
if (partial) process.exit(0)
const a = median(armature)
const b = median(baseline)
const consumeRatio = a / b
const roundRatios = armature.map((x, i) => x / baseline[i]!)
const rabbitEachRate = median(rabbitEach)
const rabbitMultipleRate = median(rabbitMultiple)
const hello = http.get('GET /hello')!
const cached = http.get('GET /api/orders/:uid (cached)')!
const getRatio = median(cached.rps) / median(hello.rps)
const row = (name: string, s: { rps: number[]; p99: number[]; cpu: number[]; failures: number }) =>
  `| ${name} | ${Math.round(median(s.rps)).toLocaleString('en-US')} | ${median(s.p99).toFixed(2)} | ${(median(s.rps) / median(hello.rps)).toFixed(2)} | ${median(s.cpu).toFixed(1)} | ${s.failures} |`
const report = `### Orders: consume rate into PostgreSQL, cached GET (bench/orders)

${new Date().toISOString().slice(0, 10)}, ${machine()}. load average ${loadBefore} at the start and ${loadavg()[0]!.toFixed(1)} at the end (other work shared the 2 cores); RabbitMQ and PostgreSQL on loopback (the machine's shared services).

**Consume.** Each round fills a fresh queue with ${orders.toLocaleString('en-US')} fake orders (1-4 items each, confirmed) before the consumer starts, then measures orders/s from the first commit to the last (\`stored_at\` of the rows), in a fresh database. Both sides use a pool of ${poolSize} connections and run node with \`${nodeFlags.join(' ') || 'no flags'}\` (BENCH_NODE_FLAGS). The plugin runs with its defaults (prefetch 1024 held unacknowledged until their commit, batches of up to 250 orders per transaction, 2 transactions at once); the baseline with prefetch ${prefetch}, which bounds nothing as it acknowledges on receipt. *Armature*: the orders plugin in \`armature start\` (every rule of the zod schema checked with the arithmetic, zod itself naming the problems of an invalid order; the order and its parts in one statement reading one array per column, idempotent by order_uid, acknowledged after the commit, the acks of one turn of the event loop sent as one \`basic.ack\` with \`multiple\`). *Baseline*: the consumer typical solutions write (\`bench/orders/baseline.ts\`): amqplib, ack on receipt, then one autocommit INSERT per table and per item, no validation, no idempotency (a crash loses what was acknowledged; a redelivery fails on the primary key or doubles rows). Median of ${rounds} rounds, the two sides alternating who goes first.

| consumer | orders/s (median) | per round |
|---|---:|---|
| Armature orders plugin (ack after commit) | ${Math.round(a).toLocaleString('en-US')} | ${armature.map((x) => Math.round(x)).join(', ')} |
| baseline (ack first, autocommit INSERT per table) | ${Math.round(b).toLocaleString('en-US')} | ${baseline.map((x) => Math.round(x)).join(', ')} |
| RabbitMQ alone, acking each message (no storage, no parsing) | ${Math.round(rabbitEachRate).toLocaleString('en-US')} | ${rabbitEach.map((x) => Math.round(x)).join(', ')} |
| RabbitMQ alone, acking in bulk (no storage, no parsing) | ${Math.round(rabbitMultipleRate).toLocaleString('en-US')} | ${rabbitMultiple.map((x) => Math.round(x)).join(', ')} |

Goal: at least 3x the baseline with the guarantees kept. Result: ${consumeRatio.toFixed(2)}x (ratio of the medians; per round ${roundRatios.map((x) => x.toFixed(2)).join(', ')}), goal ${consumeRatio >= 3 ? 'met' : 'not met'}. CPU per order consumed (medians): the kernel ${median(kernelCpu).toFixed(0)} us, PostgreSQL ${median(postgresCpu).toFixed(0)} us (the \`postgres\` processes alive at the end: the kernel's pooled backends, which ran the migrations too, and the server's own, such as the WAL writer; other work on the same server counts too). The baseline's time ends at its last \`orders\` row, before that order's remaining INSERTs, which favours it. The RabbitMQ rows show what the broker alone delivers on this machine: the same queue of ${orders.toLocaleString('en-US')} orders drained by an amqplib consumer that only acknowledges (prefetch 1024), in each round after the two consumers. Bulk acks (which the kernel now sends) raise it ${(rabbitMultipleRate / rabbitEachRate).toFixed(1)}x; at ${Math.round(rabbitMultipleRate).toLocaleString('en-US')} msg/s it is ${(rabbitMultipleRate / a).toFixed(0)}x the plugin's rate, so the broker is not what bounds it: the bound is the CPU the kernel (JSON parse, the schema's rules with the arithmetic, the order's JSON text, the batch's array literals, the AMQP and PostgreSQL protocols, garbage collection) and PostgreSQL (four tables, their keys and foreign-key checks, the WAL) need per order, with both sharing the 2 cores with RabbitMQ and with other work (the load average above).

**Cached GET.** One kernel with the hello, db and orders plugins; the newest order (in the cache since its commit) read by \`GET /api/orders/:uid\` beside \`GET /hello\`; client ${tool}, ${connections} connections, ${duration} s per run after a 2 s warm-up, median of ${rounds} rounds, alternating.

| path | req/s | p99 ms | x /hello | kernel CPU us/req | failures |
|---|---:|---:|---:|---:|---:|
${row('GET /hello', hello)}
${row('GET /api/orders/:uid (cached)', cached)}

Goal: cached GET at least 0.9x \`GET /hello\`. Result: ${getRatio.toFixed(2)}x by req/s (per round ${cached.rps.map((x, i) => (x / hello.rps[i]!).toFixed(2)).join(', ')}), goal ${getRatio >= 0.9 ? 'met' : 'not met'}; by the kernel's CPU per request, which the load of the shared machine disturbs less than req/s, /hello costs ${(median(hello.cpu) / median(cached.cpu)).toFixed(2)}x what the cached order does. The cached answer is the order's JSON kept as bytes with their length (about ${Buffer.byteLength(JSON.stringify(fakeOrder(faker)))} bytes for an order like these, against the 5 of /hello), written with a plain header object (content-type, content-length, \`X-Cache\`) from a synchronous handler.
`
console.log(report)
mkdirSync(join(root, 'bench/results'), { recursive: true })
writeFileSync(join(root, 'bench/results/orders.md'), report)

/** A kernel of this checkout with the bench's plugins, on `databaseUrl`, consuming `queue`. */
function startArmature(databaseUrl: string, queue: string, env: Record<string, string> = {}) {
  return startServer([process.execPath, ...kernelFlags, join(root, 'core/bin/armature.mjs'), 'start', '--plugins', pluginsDir], `http://127.0.0.1:${port}/hello`, {
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    LOG_FILE: join(work, 'armature.log'),
    DATA_DIR: join(work, 'data'),
    GRPC_PORT: '0',
    AMQP_URL,
    DATABASE_URL: databaseUrl,
    ORDERS_QUEUE: queue,
    ...env,
  })
}
