// The `armature pubsub` command, like kafka-topics and kafka-console-producer/-consumer: it talks
// to a running broker over gRPC or gRPCs (--url, else PUBSUB_URL, else the local kernel's GRPC_PORT).
import { readFileSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import { PubsubError } from '../errors.ts'
import { PubsubConnection, ConnectionError } from '../client/connection.ts'
import { Producer } from '../client/producer.ts'
import { Consumer } from '../client/consumer.ts'
import { table } from './table.ts'

export const USAGE = `usage: armature pubsub <command> [options]

commands:
  topics                       topics with their partitions and offsets
  topics --create T [--partitions N]
  produce --topic T            one record per line of stdin (kafka-console-producer)
          [--key K | --key-separator S] [--partition N]
  consume --topic T            records to stdout, one value per line (kafka-console-consumer)
          [--group G] [--from-beginning] [--max-messages N] [--timeout-ms MS] [--print-key] [--print-offset]
  groups [G]                   groups (state, members, lag), or one group's members
  lag [G]                      committed offset, end and lag per partition

options:
  --url grpc://host:port       the broker (default $PUBSUB_URL, else grpc://127.0.0.1:$GRPC_PORT, else :50051);
                               grpcs://host:port for the kernel's GRPCS_PORT (TLS)
  --ca FILE                    with grpcs://: the PEM CA that signed the kernel's certificate (default $PUBSUB_CA,
                               else the system's roots)
  --token TOKEN                the broker's PUBSUB_TOKEN (default $PUBSUB_TOKEN)
  --json                       JSON instead of tables
`

export interface Output {
  out(text: string): void
  err(text: string): void
}

const stdio: Output = { out: (t) => void process.stdout.write(t), err: (t) => void process.stderr.write(t) }

export function defaultUrl(env: NodeJS.ProcessEnv = process.env): string {
  return env.PUBSUB_URL || `grpc://127.0.0.1:${env.GRPC_PORT || 50051}`
}

class Usage extends Error {}

function readCa(path: string): Buffer {
  try {
    return readFileSync(path)
  } catch (error) {
    throw new Usage(`--ca: cannot read ${path}: ${(error as Error).message}`)
  }
}

interface Flags {
  url?: string | undefined
  json: boolean
  topic?: string | undefined
  create?: string | undefined
  partitions?: string | undefined
  key?: string | undefined
  'key-separator'?: string | undefined
  partition?: string | undefined
  group?: string | undefined
  'from-beginning': boolean
  'max-messages'?: string | undefined
  'timeout-ms'?: string | undefined
  'print-key': boolean
  'print-offset': boolean
}

export async function runCli(argv: string[], io: Output = stdio, input: NodeJS.ReadableStream = process.stdin): Promise<number> {
  let parsed
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        url: { type: 'string' },
        token: { type: 'string' },
        ca: { type: 'string' },
        json: { type: 'boolean', default: false },
        topic: { type: 'string', short: 't' },
        create: { type: 'string' },
        partitions: { type: 'string' },
        key: { type: 'string' },
        'key-separator': { type: 'string' },
        partition: { type: 'string' },
        group: { type: 'string', short: 'g' },
        'from-beginning': { type: 'boolean', default: false },
        'max-messages': { type: 'string' },
        'timeout-ms': { type: 'string' },
        'print-key': { type: 'boolean', default: false },
        'print-offset': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    })
  } catch (error) {
    io.err(`armature pubsub: ${(error as Error).message}\n\n${USAGE}`)
    return 2
  }
  const { values, positionals } = parsed
  const [command, ...rest] = positionals
  if (values.help || !command) {
    ;(values.help ? io.out : io.err)(USAGE)
    return values.help ? 0 : 2
  }
  let connection: PubsubConnection | undefined
  try {
    const token = values.token ?? process.env.PUBSUB_TOKEN
    const ca = values.ca ?? process.env.PUBSUB_CA
    connection = new PubsubConnection(values.url ?? defaultUrl(), { ...(token ? { token } : {}), ...(ca ? { tls: { ca: readCa(ca) } } : {}) })
    const flags = values as Flags
    switch (command) {
      case 'topics':
        return await topics(connection, flags, io)
      case 'produce':
        return await produce(connection, flags, io, input)
      case 'consume':
        return await consume(connection, flags, io)
      case 'groups':
        return await groups(connection, flags, rest[0], io)
      case 'lag':
        return await lag(connection, flags, rest[0], io)
      default:
        throw new Usage(`unknown command '${command}'`)
    }
  } catch (error) {
    if (error instanceof Usage) {
      io.err(`armature pubsub: ${error.message}\n\n${USAGE}`)
      return 2
    }
    if (error instanceof PubsubError || error instanceof ConnectionError) {
      io.err(`armature pubsub: ${error.message}${error instanceof ConnectionError ? ` (is a kernel with the pubsub plugin running at ${values.url ?? defaultUrl()}?)` : ''}\n`)
      return 1
    }
    throw error
  } finally {
    connection?.close()
  }
}

function int(name: string, text: string | undefined, min: number): number | undefined {
  if (text === undefined) return undefined
  const value = Number(text)
  if (!/^\d+$/.test(text) || value < min) throw new Usage(`--${name}: expected an integer >= ${min}, got ${JSON.stringify(text)}`)
  return value
}

function needTopic(flags: Flags): string {
  if (!flags.topic) throw new Usage('--topic is required')
  return flags.topic
}

interface TopicInfo {
  name: string
  partitions: number
  partitions_info: Array<{ partition: number; start: string; end: string; bytes: string }>
}

async function topics(connection: PubsubConnection, flags: Flags, io: Output): Promise<number> {
  if (flags.create) {
    const partitions = int('partitions', flags.partitions, 1)
    const created = await connection.call<TopicInfo>('CreateTopic', { name: flags.create, partitions: partitions ?? 0 })
    io.out(flags.json ? `${JSON.stringify(created, null, 2)}\n` : `created topic ${created.name} with ${created.partitions} partitions\n`)
    return 0
  }
  const { topics: list } = await connection.call<{ topics: TopicInfo[] }>('ListTopics', {})
  const rows = list
    .map((t) => ({
      topic: t.name,
      partitions: t.partitions,
      records: t.partitions_info.reduce((n, p) => n + Number(p.end) - Number(p.start), 0),
      bytes: t.partitions_info.reduce((n, p) => n + Number(p.bytes), 0),
      ends: t.partitions_info.map((p) => Number(p.end)),
    }))
    .sort((a, b) => (a.topic < b.topic ? -1 : 1))
  if (flags.json) io.out(`${JSON.stringify({ topics: rows }, null, 2)}\n`)
  else
    io.out(
      table(
        ['TOPIC', 'PARTITIONS', 'RECORDS', 'BYTES', 'END OFFSETS'],
        rows.map((r) => [r.topic, r.partitions, r.records, r.bytes, r.ends.join(',')]),
      ),
    )
  return 0
}

async function produce(connection: PubsubConnection, flags: Flags, io: Output, input: NodeJS.ReadableStream): Promise<number> {
  const topic = needTopic(flags)
  const partition = int('partition', flags.partition, 0)
  const separator = flags['key-separator']
  if (separator !== undefined && flags.key !== undefined) throw new Usage('give --key or --key-separator, not both')
  if (separator === '') throw new Usage('--key-separator: expected at least one character')
  const producer = new Producer(connection, { lingerMs: 5 })
  const pending = new Set<Promise<unknown>>()
  let sent = 0
  let failed: Error | undefined
  try {
    for await (const line of createInterface({ input, crlfDelay: Infinity })) {
      if (failed) break
      let key = flags.key
      let value = line
      if (separator !== undefined) {
        const at = line.indexOf(separator)
        if (at < 0) throw new Usage(`line ${sent + 1} has no key separator ${JSON.stringify(separator)}`)
        key = line.slice(0, at)
        value = line.slice(at + separator.length)
      }
      const send = producer.send({ topic, messages: [{ value, ...(key !== undefined ? { key } : {}), ...(partition !== undefined ? { partition } : {}) }] })
      pending.add(send)
      send.then(
        () => pending.delete(send),
        (error: Error) => (failed ??= error),
      )
      sent++
      // Bounded in flight: stdin can be far larger than memory.
      if (pending.size >= 1000) await Promise.race(pending)
    }
    await Promise.all(pending)
  } catch (error) {
    failed ??= error as Error
  } finally {
    await producer.close().catch(() => {})
  }
  if (failed) throw failed
  io.err(`produced ${sent} records to ${topic}\n`)
  return 0
}

async function consume(connection: PubsubConnection, flags: Flags, io: Output): Promise<number> {
  const topic = needTopic(flags)
  const maxMessages = int('max-messages', flags['max-messages'], 1)
  const timeoutMs = int('timeout-ms', flags['timeout-ms'], 1)
  // As kafka-console-consumer: without --group a group of its own, which nothing else joins.
  const groupId = flags.group ?? `console-consumer-${process.pid}-${Date.now()}`
  const consumer = new Consumer(connection, {
    groupId,
    mode: 'pull',
    fromBeginning: flags['from-beginning'],
    autoCommit: true,
    autoCommitIntervalMs: 1000,
    clientId: 'armature-pubsub-cli',
  })
  await consumer.subscribe({ topics: [topic] })
  // On stderr, so stdout holds only records: where reading starts on each partition.
  consumer.on('assigned', (p) => io.err(`reading ${p.topic}/${p.partition} from offset ${p.offset}\n`))
  let count = 0
  let lastAt = Date.now()
  let finish!: () => void
  const done = new Promise<void>((resolve) => (finish = resolve))
  const stop = () => finish()
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  await consumer.run({
    eachMessage: ({ partition, message }) => {
      if (maxMessages !== undefined && count >= maxMessages) return
      const prefix = `${flags['print-offset'] ? `${partition}:${message.offset}\t` : ''}${flags['print-key'] ? `${message.key?.toString() ?? 'null'}\t` : ''}`
      io.out(`${prefix}${message.value.toString()}\n`)
      count++
      lastAt = Date.now()
      if (maxMessages !== undefined && count >= maxMessages) finish()
    },
  })
  const idle = timeoutMs
    ? setInterval(
        () => {
          if (Date.now() - lastAt >= timeoutMs) finish()
        },
        Math.min(100, timeoutMs),
      )
    : undefined
  try {
    await done
  } finally {
    clearInterval(idle)
    process.off('SIGINT', stop)
    process.off('SIGTERM', stop)
    // Leaving commits what was printed.
    await consumer.disconnect()
  }
  io.err(`consumed ${count} records from ${topic} (group ${groupId})\n`)
  return 0
}

interface GroupState {
  group: string
  mode: string
  state: string
  generation: number
  members: Array<{ memberId: string; clientId: string; mode: string; assignment: Array<{ topic: string; partition: number }>; ackPending?: number; saturated?: boolean }>
  lag: Array<{ topic: string; partition: number; committed: number | null; start: number; end: number; lag: number }>
}

async function describe(connection: PubsubConnection, group: string): Promise<GroupState> {
  const { json } = await connection.call<{ json: string }>('DescribeGroup', { group })
  return JSON.parse(json) as GroupState
}

async function groups(connection: PubsubConnection, flags: Flags, group: string | undefined, io: Output): Promise<number> {
  if (group) {
    const d = await describe(connection, group)
    if (flags.json) io.out(`${JSON.stringify(d, null, 2)}\n`)
    else {
      io.out(`group ${d.group}: ${d.state}, ${d.mode}, generation ${d.generation}, lag ${d.lag.reduce((n, p) => n + p.lag, 0)}\n`)
      io.out(
        table(
          ['MEMBER', 'CLIENT', 'MODE', 'PARTITIONS', 'ACK PENDING'],
          d.members.map((m) => [m.memberId, m.clientId || '-', m.mode, m.assignment.map((tp) => `${tp.topic}/${tp.partition}`).join(',') || '-', m.ackPending ?? '-']),
        ),
      )
    }
    return 0
  }
  const { groups: ids } = await connection.call<{ groups: string[] }>('ListGroups', {})
  const all = await Promise.all(ids.map((id) => describe(connection, id)))
  const rows = all.map((d) => ({ group: d.group, mode: d.mode, state: d.state, generation: d.generation, members: d.members.length, lag: d.lag.reduce((n, p) => n + p.lag, 0) }))
  if (flags.json) io.out(`${JSON.stringify({ groups: rows }, null, 2)}\n`)
  else
    io.out(
      table(
        ['GROUP', 'MODE', 'STATE', 'GENERATION', 'MEMBERS', 'LAG'],
        rows.map((r) => [r.group, r.mode, r.state, r.generation, r.members, r.lag]),
      ),
    )
  return 0
}

async function lag(connection: PubsubConnection, flags: Flags, group: string | undefined, io: Output): Promise<number> {
  const ids = group ? [group] : (await connection.call<{ groups: string[] }>('ListGroups', {})).groups
  const rows = (await Promise.all(ids.map((id) => describe(connection, id)))).flatMap((d) =>
    d.lag.map((p) => ({ group: d.group, topic: p.topic, partition: p.partition, committed: p.committed, end: p.end, lag: p.lag })),
  )
  if (flags.json) io.out(`${JSON.stringify({ lag: rows }, null, 2)}\n`)
  else
    io.out(
      table(
        ['GROUP', 'TOPIC', 'PARTITION', 'COMMITTED', 'END', 'LAG'],
        rows.map((r) => [r.group, r.topic, r.partition, r.committed ?? '-', r.end, r.lag]),
      ),
    )
  return 0
}
