// Armature pubsub beside RabbitMQ (amqplib, publisher confirms, prefetch 1000) and NATS
// JetStream (`nats`), same run, same machine: one producer process and one consumer process per
// run, 100-byte values, the producer waiting for acknowledgements (256 sends in flight, each
// message its own send(), the Producer's defaults coalescing them into frames), the consumer
// acknowledging each message. Measures end-to-end msg/s, publish-to-deliver p50/p99 at a fixed
// 10k msg/s, batched produce (100 per call) and fan-out (one producer, three groups).
// Armature runs as a real kernel with only the pubsub plugin, a fresh one per run; RabbitMQ
// (AMQP_URL, default 127.0.0.1:5672) and NATS (NATS_URL, default 127.0.0.1:4222) are the
// machine's servers, with a queue or stream of a unique name per run, deleted after it.
import { fork, type ChildProcess } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { machine } from '../lib/load.ts'
import { cpuSeconds, startServer, type RunningServer } from '../lib/server.ts'
import { median } from '../lib/stats.ts'
import type { Scenario, System } from './drivers.ts'

const root = join(import.meta.dirname, '../..')
const duration = Number(process.env.BENCH_DURATION ?? 5)
const warmup = Number(process.env.BENCH_WARMUP ?? 2)
const rounds = Number(process.env.BENCH_ROUNDS ?? 3)
const fixedRate = Number(process.env.BENCH_RATE ?? 10_000)
const IN_FLIGHT = 256
const BATCH = 100
const HTTP_PORT = 18201
const GRPC_PORT = 18251
// For profiling: BENCH_SECTIONS=throughput BENCH_SYSTEMS=armature BENCH_KERNEL_FLAGS=--cpu-prof runs that much only.
const onlySections = process.env.BENCH_SECTIONS?.split(',')
const onlySystems = process.env.BENCH_SYSTEMS?.split(',')
const kernelFlags = process.env.BENCH_KERNEL_FLAGS?.split(' ').filter(Boolean) ?? []
const clientFlags = process.env.BENCH_CLIENT_FLAGS?.split(' ').filter(Boolean) ?? []

interface Contender {
  label: string
  system: System
  storage: string
  /** Armature: Producer options over its defaults. */
  producer?: Scenario['producer']
}

const armatureMemory: Contender = { label: 'Armature pubsub, memory', system: 'armature', storage: 'memory' }
const armatureFile: Contender = { label: 'Armature pubsub, file (fsync everysec)', system: 'armature', storage: 'file' }
const rabbitTransient: Contender = { label: 'RabbitMQ, transient queue', system: 'rabbitmq', storage: 'transient' }
const rabbitDurable: Contender = { label: 'RabbitMQ, durable queue, persistent messages', system: 'rabbitmq', storage: 'durable' }
const jetstreamMemory: Contender = { label: 'NATS JetStream, memory stream', system: 'jetstream', storage: 'memory' }
const jetstreamFile: Contender = { label: 'NATS JetStream, file stream', system: 'jetstream', storage: 'file' }
// The shape before the producer batched: each send its own ProduceStream frame, all 256 pipelined.
const armatureMemoryFrames: Contender = {
  label: 'Armature pubsub, memory, each message its own frame on the wire (maxBatchRecords 1, maxInFlight 256)',
  system: 'armature',
  storage: 'memory',
  producer: { maxBatchRecords: 1, maxInFlight: IN_FLIGHT },
}
const everyone = [armatureMemory, armatureFile, rabbitTransient, rabbitDurable, jetstreamMemory, jetstreamFile]

interface Section {
  key: string
  contenders: Contender[]
  shape: Pick<Scenario, 'batch' | 'inFlight' | 'rate' | 'groups'>
}

const allSections: Section[] = [
  { key: 'throughput', contenders: [...everyone, armatureMemoryFrames], shape: { batch: 1, inFlight: IN_FLIGHT, rate: 0, groups: 1 } },
  { key: 'batched', contenders: [armatureMemory, armatureFile], shape: { batch: BATCH, inFlight: Math.ceil(IN_FLIGHT / BATCH), rate: 0, groups: 1 } },
  { key: 'latency', contenders: everyone, shape: { batch: 1, inFlight: IN_FLIGHT, rate: fixedRate, groups: 1 } },
  { key: 'fanout', contenders: [armatureMemory, rabbitTransient, jetstreamMemory], shape: { batch: 1, inFlight: IN_FLIGHT, rate: 0, groups: 3 } },
]
const sections = allSections
  .filter((s) => !onlySections || onlySections.includes(s.key))
  .map((s) => ({ ...s, contenders: s.contenders.filter((c) => !onlySystems || onlySystems.includes(c.system)) }))
const partial = Boolean(onlySections || onlySystems)

interface RunResult {
  /** Messages produced in the measured phase, acknowledged by the broker. */
  sent: number
  /** Deliveries the consumer got (every group counted). */
  received: number
  /** Messages per second from the first publish to the last delivery (per group). */
  endToEnd: number
  /** Acknowledged publishes per second. */
  produced: number
  p50ms: number
  p99ms: number
  /** The Armature kernel's CPU time per message (µs), user + system. */
  brokerCpuUs?: number
  /** The producer's and the consumer's process, the same way. */
  producerCpuUs: number
  consumerCpuUs: number
}

/** A kernel of this checkout serving only the pubsub plugin. */
async function startKernel(storage: string): Promise<{ server: RunningServer; cleanup: () => void }> {
  const plugins = mkdtempSync(join(tmpdir(), 'bench-pubsub-plugins-'))
  cpSync(join(root, 'plugins/pubsub'), join(plugins, 'pubsub'), { recursive: true, filter: (src) => !src.includes('/test') })
  const data = mkdtempSync(join(tmpdir(), 'bench-pubsub-data-'))
  const server = await startServer(
    [process.execPath, ...kernelFlags, join(root, 'core/bin/armature.mjs'), 'start', '--plugins', plugins],
    `http://127.0.0.1:${HTTP_PORT}/readyz`,
    {
      PORT: String(HTTP_PORT),
      HOST: '127.0.0.1',
      GRPC_PORT: String(GRPC_PORT),
      LOG_LEVEL: 'warn',
      LOG_FILE: '/tmp/armature-bench-pubsub.log',
      DATA_DIR: data,
      PUBSUB_STORAGE: storage,
      PUBSUB_FSYNC: 'everysec',
    },
    root,
  )
  return { server, cleanup: () => [plugins, data].forEach((dir) => rmSync(dir, { recursive: true, force: true })) }
}

function spawnSide(file: string, scenario: Scenario): ChildProcess {
  return fork(join(import.meta.dirname, file), [], {
    execArgv: ['--import', 'tsx', ...clientFlags],
    env: { ...process.env, BENCH_SCENARIO: JSON.stringify(scenario) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
}

/** The next IPC message of `type` from a child, or an error when it exits first. */
function message<T = Record<string, number>>(child: ChildProcess, type: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: { type: string }) => {
      if (m.type !== type) return
      child.off('exit', onExit)
      child.off('message', onMessage)
      resolve(m as T)
    }
    const onExit = (code: number | null) => reject(new Error(`${child.spawnargs.at(-1)} exited (${code}) before ${type}`))
    child.on('message', onMessage)
    child.once('exit', onExit)
  })
}

const exited = (child: ChildProcess) => new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', () => resolve())))

let runs = 0
async function runOnce(contender: Contender, shape: Section['shape']): Promise<RunResult> {
  const kernel = contender.system === 'armature' ? await startKernel(contender.storage) : undefined
  const scenario: Scenario = {
    system: contender.system,
    storage: contender.storage,
    name: `bench-pubsub-${process.pid}-${Date.now()}-${runs++}`,
    url: `grpc://127.0.0.1:${GRPC_PORT}`,
    durationSec: duration,
    warmupSec: warmup,
    ...shape,
    ...(contender.producer ? { producer: contender.producer } : {}),
  }
  const consumer = spawnSide('consumer.ts', scenario)
  let producer: ChildProcess | undefined
  try {
    await message(consumer, 'ready')
    producer = spawnSide('producer.ts', scenario)
    const warmed = await message(producer, 'warmed')
    consumer.send({ type: 'expect', phase: 0, count: warmed.sent, timeoutMs: 60_000 })
    await message(consumer, 'drained')
    const cpuBefore = kernel ? cpuSeconds(kernel.server.child.pid!) : 0
    const clientsBefore = [cpuSeconds(producer.pid!), cpuSeconds(consumer.pid!)]
    producer.send({ type: 'go' })
    const done = await message(producer, 'done')
    const producerCpu = cpuSeconds(producer.pid!) - clientsBefore[0]!
    const measuredSent = done.sent! - done.failed!
    consumer.send({ type: 'expect', phase: 1, count: measuredSent, timeoutMs: 60_000 })
    const got = await message(consumer, 'result')
    const cpu = kernel ? cpuSeconds(kernel.server.child.pid!) - cpuBefore : 0
    const consumerCpu = cpuSeconds(consumer.pid!) - clientsBefore[1]!
    consumer.send({ type: 'stop' })
    await Promise.all([exited(consumer), exited(producer)])
    const seconds = (got.lastNs! - done.startNs!) / 1e9
    return {
      sent: measuredSent,
      received: got.received!,
      endToEnd: got.received! / shape.groups / seconds,
      produced: measuredSent / ((done.endNs! - done.startNs!) / 1e9),
      p50ms: got.p50ms!,
      p99ms: got.p99ms!,
      ...(kernel ? { brokerCpuUs: (cpu * 1e6) / measuredSent } : {}),
      producerCpuUs: (producerCpu * 1e6) / measuredSent,
      consumerCpuUs: (consumerCpu * 1e6) / measuredSent,
    }
  } finally {
    for (const child of [consumer, producer]) if (child && child.exitCode === null) child.kill('SIGKILL')
    if (kernel) {
      await kernel.server.stop()
      kernel.cleanup()
    }
  }
}

const loadAtStart = loadavg()
const results = new Map<string, RunResult[]>()
const keyOf = (section: Section, c: Contender) => `${section.key}|${c.label}`
for (let round = 0; round < rounds; round++) {
  for (const section of sections) {
    // Rotate who goes first: a shared machine drifts, and no contender should always get the quiet slot.
    const order = section.contenders.map((_, i) => section.contenders[(i + round) % section.contenders.length]!)
    for (const c of order) {
      const r = await runOnce(c, section.shape)
      results.set(keyOf(section, c), [...(results.get(keyOf(section, c)) ?? []), r])
      console.error(
        `${section.key} round ${round + 1} ${c.label}: ${Math.round(r.endToEnd)} msg/s end to end, ${Math.round(r.produced)} acks/s, p50 ${r.p50ms.toFixed(2)} ms, p99 ${r.p99ms.toFixed(2)} ms, ` +
          `sent ${r.sent}, received ${r.received}, CPU us/msg: ${r.brokerCpuUs !== undefined ? `broker ${r.brokerCpuUs.toFixed(1)}, ` : ''}producer ${r.producerCpuUs.toFixed(1)}, consumer ${r.consumerCpuUs.toFixed(1)}; load ${loadavg()[0]!.toFixed(1)}`,
      )
    }
  }
}

interface Summary {
  endToEnd: number
  produced: number
  p50ms: number
  p99ms: number
  /** Deliveries short of sent × groups, over every round. */
  missing: number
  brokerCpuUs: number | undefined
  producerCpuUs: number
  consumerCpuUs: number
}
const summary = (section: Section, c: Contender): Summary => {
  const runs = results.get(keyOf(section, c))!
  const cpu = runs.map((r) => r.brokerCpuUs).filter((x): x is number => x !== undefined)
  return {
    endToEnd: median(runs.map((r) => r.endToEnd)),
    produced: median(runs.map((r) => r.produced)),
    p50ms: median(runs.map((r) => r.p50ms)),
    p99ms: median(runs.map((r) => r.p99ms)),
    missing: runs.reduce((n, r) => n + Math.max(0, r.sent * section.shape.groups - r.received), 0),
    brokerCpuUs: cpu.length ? median(cpu) : undefined,
    producerCpuUs: median(runs.map((r) => r.producerCpuUs)),
    consumerCpuUs: median(runs.map((r) => r.consumerCpuUs)),
  }
}
const section = (key: string) => sections.find((s) => s.key === key)!
const fmt = (n: number) => Math.round(n).toLocaleString('en-US')
/** Broker (Armature's kernel only: the other servers are shared with the machine), producer and consumer process. */
const cpuCell = (s: Summary) => `${s.brokerCpuUs !== undefined ? s.brokerCpuUs.toFixed(1) : '–'} / ${s.producerCpuUs.toFixed(1)} / ${s.consumerCpuUs.toFixed(1)}`

if (partial) process.exit(0)
const throughput = section('throughput')
const rabbitBest = Math.max(summary(throughput, rabbitTransient).endToEnd, summary(throughput, rabbitDurable).endToEnd)
const throughputRows = throughput.contenders.map((c) => {
  const s = summary(throughput, c)
  return `| ${c.label} | ${fmt(s.endToEnd)} | ${(s.endToEnd / rabbitBest).toFixed(2)} | ${(s.endToEnd / summary(throughput, jetstreamMemory).endToEnd).toFixed(2)} | ${fmt(s.produced)} | ${s.p99ms.toFixed(1)} | ${cpuCell(s)} | ${s.missing} |`
})

const batched = section('batched')
const batchedRows = batched.contenders.map((c) => {
  const s = summary(batched, c)
  return `| ${c.label}, ${BATCH} per call | ${fmt(s.endToEnd)} | ${(s.endToEnd / summary(throughput, c).endToEnd).toFixed(2)} | ${(s.endToEnd / rabbitBest).toFixed(2)} | ${fmt(s.produced)} | ${cpuCell(s)} | ${s.missing} |`
})

const latency = section('latency')
const latencyRows = latency.contenders.map((c) => {
  const s = summary(latency, c)
  return `| ${c.label} | ${fmt(s.produced)} | ${s.p50ms.toFixed(2)} | ${s.p99ms.toFixed(2)} | ${cpuCell(s)} | ${s.missing} |`
})

const fanout = section('fanout')
const fanoutRows = fanout.contenders.map((c) => {
  const s = summary(fanout, c)
  return `| ${c.label} | ${fmt(s.endToEnd)} | ${fmt(s.endToEnd * fanout.shape.groups)} | ${(s.endToEnd / summary(fanout, rabbitTransient).endToEnd).toFixed(2)} | ${s.p99ms.toFixed(1)} | ${cpuCell(s)} | ${s.missing} |`
})

const memory = summary(throughput, armatureMemory).endToEnd
const file = summary(throughput, armatureFile).endToEnd
const jsMemory = summary(throughput, jetstreamMemory).endToEnd
const jsFile = summary(throughput, jetstreamFile).endToEnd
const verdict = (ok: boolean) => (ok ? 'met' : '**missed**')
/** The ratio within each round (both measured minutes apart at most, under the same load), then the median: steadier than a ratio of medians on a shared machine. */
const paired = (a: Contender, b: Contender[]) => {
  const ours = results.get(keyOf(throughput, a))!
  const theirs = b.map((c) => results.get(keyOf(throughput, c))!)
  const ratios = ours.map((r, i) => r.endToEnd / Math.max(...theirs.map((t) => t[i]!.endToEnd)))
  return { median: median(ratios), all: ratios.map((x) => x.toFixed(2)).join(', ') }
}
const vsRabbit = paired(armatureMemory, [rabbitTransient, rabbitDurable])
const vsJsMemory = paired(armatureMemory, [jetstreamMemory])
const vsJsFile = paired(armatureFile, [jetstreamFile])
const goals = [
  `- Armature memory at least 3x RabbitMQ (the faster of its two rows): ${(memory / rabbitBest).toFixed(2)}x (per round ${vsRabbit.all}; median ${vsRabbit.median.toFixed(2)}x), ${verdict(vsRabbit.median >= 3)}.`,
  `- Armature memory ahead of JetStream memory: ${(memory / jsMemory).toFixed(2)}x (per round ${vsJsMemory.all}; median ${vsJsMemory.median.toFixed(2)}x), ${verdict(vsJsMemory.median > 1)}.`,
  `- Armature file (fsync everysec) ahead of JetStream file: ${(file / jsFile).toFixed(2)}x (per round ${vsJsFile.all}; median ${vsJsFile.median.toFixed(2)}x), ${verdict(vsJsFile.median > 1)}.`,
]

const cpuOf = (c: Contender) => summary(throughput, c)
const clientsCpu = (c: Contender) => cpuOf(c).producerCpuUs + cpuOf(c).consumerCpuUs
const m = cpuOf(armatureMemory)
const f = cpuOf(armatureMemoryFrames)
const bound = `What bounds the run on this machine: Armature's path is three Node processes, which spend ${(m.brokerCpuUs! + m.producerCpuUs + m.consumerCpuUs).toFixed(1)} CPU us per message together with the Producer's defaults (broker ${m.brokerCpuUs!.toFixed(1)}, producer ${m.producerCpuUs.toFixed(1)}, consumer ${m.consumerCpuUs.toFixed(1)}), and ${(f.brokerCpuUs! + f.producerCpuUs + f.consumerCpuUs).toFixed(1)} with each message its own frame, where RabbitMQ's two amqplib clients spend ${clientsCpu(rabbitTransient).toFixed(1)} (its Erlang server not counted) and JetStream's two \`nats\` clients ${clientsCpu(jetstreamMemory).toFixed(1)}. A frame costs the same grpc-js and HTTP/2 work whatever it carries, so coalescing the sends divides most of it; and the records of a batch, a fetch or a turn's deliveries travel packed in one \`bytes\` field (src/packed.ts, as Kafka carries a RecordBatch) with acknowledgements as ranges of offsets, so no record costs a protobuf message, its conversion to an object and a string per 64-bit number (in CPU profiles of the record-per-message form, taken with BENCH_KERNEL_FLAGS / BENCH_CLIENT_FLAGS=--cpu-prof, protobuf work was 28% of the broker's busy time and 43% of the consumer's). What is left is mostly grpc-js stream handling, the producer's own per-send work and GC; with ${IN_FLIGHT} sends in flight as two or three batches, the round trip of a batch bounds the run as much as CPU does.`
const report = `### Pubsub broker against RabbitMQ and NATS JetStream (bench/pubsub)

${new Date().toISOString().slice(0, 10)}, ${machine()}. Load average (1, 5, 15 min) when the run began: ${loadAtStart.map((l) => l.toFixed(1)).join(', ')}; when it ended: ${loadavg()
  .map((l) => l.toFixed(1))
  .join(', ')}. Median of ${rounds} rounds (the order rotates each round), ${duration} s measured after a ${warmup} s warm-up the consumer drains first.

One producer process and one consumer process per run, both Node on the same machine as the broker; 100-byte values, one partition / queue / stream. The producer keeps ${IN_FLIGHT} publishes awaiting their acknowledgement; the consumer acknowledges every message (push, 1000 unacknowledged at most). Armature: a kernel of this checkout with only the pubsub plugin, started fresh for each run; the application calls the plugin's \`Producer.send()\` once per message and awaits it, and the Producer does what it does for any user with its defaults (idempotent, \`lingerMs\` 0, \`maxBatchBytes\` 16 KiB, \`maxInFlight\` 5): it coalesces the sends of one turn of the event loop into batches of at most 16 KiB of values, keys and headers (163 of these 100-byte records), keeps at most 5 batches awaiting their acknowledgement on the pipelined ProduceStream (more wait, in order), and resolves each send with its own offset when its batch is acknowledged; the ${IN_FLIGHT} sends in flight travel as two or three frames. The row "each message its own frame on the wire" sets \`maxBatchRecords: 1, maxInFlight: ${IN_FLIGHT}\`: every send its own ProduceStream frame and its own acknowledgement. The consumer is a Subscribe stream of an exclusive group (deliveries and acks gathered per turn). The Armature client sends and receives records packed: a batch's records in one \`bytes\` field of the ProduceStream request, a turn's deliveries of a partition in one \`bytes\` field, acknowledgements as ranges of consecutive offsets. RabbitMQ ${'(amqplib)'}: a confirm channel, \`channel.publish\` once per message with a callback, a consumer with prefetch 1000 acknowledging each message; amqplib writes each publish as its own frames, and RabbitMQ answers confirms with \`basic.ack\` carrying \`multiple\` (one ack covers every publish up to a sequence number), which amqplib turns into each publish's callback: per-message calls over batched acknowledgements, as Armature's Producer gives per-message promises over batched frames. JetStream (\`nats\`): \`js.publish\` awaiting each PubAck (each publish its own request and reply), a durable pull consumer (\`consume\`, 1000 buffered, explicit acks). JetStream's file store syncs to disk every 2 minutes by default (the server's \`sync_interval\`), Armature's \`everysec\` every second.

CPU us/msg: user + system time of a process (from /proc) over the measured phase, divided by the messages produced; the broker's only for Armature's kernel, since the RabbitMQ and NATS servers are shared with other work on the machine.

End-to-end msg/s: messages acknowledged to the producer in the measured phase divided by the time from its first publish to the consumer's last delivery.

#### Each message acknowledged, ${IN_FLIGHT} in flight

| broker | end-to-end msg/s | x RabbitMQ | x JetStream memory | producer acks/s | p99 ms (saturated) | CPU us/msg: broker / producer / consumer | missing |
|---|---:|---:|---:|---:|---:|---:|---:|
${throughputRows.join('\n')}

Goals (same client shape as the competitors); the first ratio is of the medians above, then the ratio within each round and its median, which decides:

${goals.join('\n')}

${bound}

#### Batched produce: ${BATCH} records per call, ${batched.shape.inFlight} calls in flight

| broker | end-to-end msg/s | x one message per send | x RabbitMQ | producer acks/s | CPU us/msg: broker / producer / consumer | missing |
|---|---:|---:|---:|---:|---:|---:|
${batchedRows.join('\n')}

#### Publish-to-deliver latency at a fixed ${fmt(fixedRate)} msg/s

The producer publishes what is due every millisecond (at most ${IN_FLIGHT} awaiting acknowledgement); each value carries its publish time (the machine's monotonic clock), read by the consumer on delivery. A broker that cannot keep the rate shows it in the achieved rate.

| broker | achieved msg/s | p50 ms | p99 ms | CPU us/msg: broker / producer / consumer | missing |
|---|---:|---:|---:|---:|---:|
${latencyRows.join('\n')}

#### Fan-out: one producer, three groups

Armature: three exclusive groups on the topic; RabbitMQ: a fanout exchange bound to three queues (transient); JetStream: three durable consumers on a memory stream. The consumer process holds all three.

| broker | end-to-end msg/s (each group) | deliveries/s | x RabbitMQ | p99 ms (saturated) | CPU us/msg: broker / producer / consumer | missing |
|---|---:|---:|---:|---:|---:|---:|
${fanoutRows.join('\n')}
`
console.log(report)
mkdirSync(join(root, 'bench/results'), { recursive: true })
writeFileSync(join(root, 'bench/results/pubsub.md'), report)
