// The broker: topics of partition logs, produce with write balancing, limits and idempotence,
// long-poll fetch, consumer groups with push delivery, and delayed appends. It knows nothing of
// servers: the plugin's transports (gRPC, HTTP, the queue port) call it.
import { randomUUID } from 'node:crypto'
import { ASSIGNORS, type AssignorName } from './assignors.ts'
import { DelayedAppends } from './delayed.ts'
import { PubsubError } from './errors.ts'
import { ConsumerGroup, GROUP_MODES, type GroupMode, type JoinOptions, type MemberState } from './group.ts'
import { ProducerSequences } from './idempotence.ts'
import { PartitionLog } from './partition-log.ts'
import { Partitioner, type KeylessStrategy } from './partitioner.ts'
import { isTopicName, recordSize, type ProduceRecord, type StoredRecord } from './record.ts'
import { MemoryStorage } from './storage/memory.ts'
import type { BrokerStorage, ProducerBatch, Retention, TopicMeta } from './storage/storage.ts'

export interface BrokerOptions {
  storage?: BrokerStorage
  /** Partitions of a topic created without a count (and on first produce). */
  defaultPartitions?: number
  /** A produce or a subscription to an unknown topic creates it. */
  autoCreateTopics?: boolean
  maxRecordBytes?: number
  maxBatchBytes?: number
  /** Bytes all partitions may hold together; a produce beyond it gets the retriable BROKER_FULL. */
  maxTotalBytes?: number
  /** Retention of topics created without their own. */
  retention?: Partial<Retention>
  keyless?: KeylessStrategy
  /** Where a group without a committed offset starts. */
  resetPolicy?: 'earliest' | 'latest'
  /** How often session timeouts, ackWait and redelivery delays are checked, in ms. */
  tickMs?: number
}

export interface ProduceOptions {
  /** Idempotent produce: the id from initProducer and the batch's first sequence; the batch must name one partition. */
  producerId?: number | undefined
  baseSequence?: number | undefined
}

export interface ProduceResult {
  partition: number
  offset: number
}

export interface FetchOptions {
  maxMessages?: number
  maxBytes?: number
  maxWaitMs?: number
  signal?: AbortSignal
}

export interface FetchResult {
  records: StoredRecord[]
  highWatermark: number
  logStartOffset: number
}

export type SeekTarget = 'earliest' | 'latest' | { offset: number } | { timestamp: number }

export interface Topic {
  meta: TopicMeta
  logs: PartitionLog[]
}

export const MAX_PARTITIONS = 1024
const MAX_FETCH_WAIT_MS = 60_000

export class Broker {
  readonly storage: BrokerStorage
  readonly options: Required<Omit<BrokerOptions, 'storage' | 'retention'>> & { retention: Retention }
  readonly #topics = new Map<string, Topic>()
  readonly #groups = new Map<string, ConsumerGroup>()
  readonly #restoredGroups = new Map<string, { generation: number; offsets: Array<{ topic: string; partition: number; offset: number }> }>()
  readonly #partitioner: Partitioner
  readonly #sequences: ProducerSequences
  readonly delayed: DelayedAppends
  #bytes = 0
  #ticker: NodeJS.Timeout
  #stopping = false
  #closed: Promise<void> | undefined
  readonly stats = { produced: 0, fetched: 0, refusedFull: 0 }

  constructor(options: BrokerOptions = {}) {
    this.storage = options.storage ?? new MemoryStorage()
    this.options = {
      defaultPartitions: options.defaultPartitions ?? 1,
      autoCreateTopics: options.autoCreateTopics ?? true,
      maxRecordBytes: options.maxRecordBytes ?? 1_048_576,
      maxBatchBytes: options.maxBatchBytes ?? 16_777_216,
      maxTotalBytes: options.maxTotalBytes ?? 268_435_456,
      retention: { maxRecords: 0, maxBytes: 0, maxAgeMs: 0, ...options.retention },
      keyless: options.keyless ?? 'sticky',
      resetPolicy: options.resetPolicy ?? 'earliest',
      tickMs: options.tickMs ?? 50,
    }
    this.#partitioner = new Partitioner(this.options.keyless)
    // Without stored state (memory) ids start at the clock's milliseconds: a producer of before a restart is
    // UNKNOWN_PRODUCER to the new broker instead of passing for a producer the new one issued.
    this.#sequences = new ProducerSequences(this.storage.loadNextProducerId?.() ?? Date.now())
    for (const meta of this.storage.loadTopics()) this.#open(meta)
    for (const group of this.storage.loadGroups()) this.#restoredGroups.set(group.id, group)
    this.delayed = new DelayedAppends(this)
    this.#ticker = setInterval(() => this.#tick(), this.options.tickMs)
    this.#ticker.unref()
    this.delayed.resume()
  }

  // ---- topics ----

  createTopic(name: string, options: { partitions?: number; retention?: Partial<Retention> } = {}): TopicMeta {
    if (!isTopicName(name)) throw new PubsubError('INVALID_TOPIC', `topic name ${JSON.stringify(name)}: expected 1 to 249 of [a-zA-Z0-9._-]`)
    if (this.#topics.has(name)) throw new PubsubError('TOPIC_EXISTS', `topic '${name}' already exists`)
    const partitions = options.partitions ?? this.options.defaultPartitions
    if (!Number.isInteger(partitions) || partitions < 1 || partitions > MAX_PARTITIONS) {
      throw new PubsubError('INVALID_PARTITION', `partitions: expected an integer from 1 to ${MAX_PARTITIONS}, got ${partitions}`)
    }
    const retention = { ...this.options.retention, ...options.retention }
    for (const [key, value] of Object.entries(retention)) {
      if (!Number.isInteger(value) || value < 0) throw new PubsubError('INVALID_ARGUMENT', `retention.${key}: expected an integer >= 0, got ${value}`)
    }
    const meta: TopicMeta = { name, partitions, retention, createdAt: Date.now() }
    this.storage.saveTopic(meta)
    this.#open(meta)
    return meta
  }

  /** The topic, created with the defaults when auto-create is on. */
  topic(name: string, { create = this.options.autoCreateTopics } = {}): Topic {
    const topic = this.#topics.get(name)
    if (topic) return topic
    if (!create) throw new PubsubError('UNKNOWN_TOPIC', `topic '${name}' does not exist (create it first, or turn autoCreateTopics on)`)
    this.createTopic(name)
    return this.#topics.get(name)!
  }

  hasTopic(name: string): boolean {
    return this.#topics.has(name)
  }

  topics(): Array<TopicMeta & { partitionsInfo: Array<{ partition: number; start: number; end: number; bytes: number }> }> {
    return [...this.#topics.values()].map((t) => ({
      ...t.meta,
      partitionsInfo: t.logs.map((log) => ({ partition: log.partition, start: log.startOffset, end: log.endOffset, bytes: log.store.bytes })),
    }))
  }

  deleteTopic(name: string): void {
    const topic = this.topic(name, { create: false })
    for (const log of topic.logs) {
      this.#bytes -= log.store.bytes
      void log.store.close()
    }
    this.#topics.delete(name)
    this.storage.deleteTopic(name)
  }

  log(topic: string, partition: number): PartitionLog {
    const t = this.topic(topic, { create: false })
    const log = t.logs[partition]
    if (!log) throw new PubsubError('INVALID_PARTITION', `topic '${topic}' has partitions 0..${t.logs.length - 1}, got ${partition}`)
    return log
  }

  // ---- produce ----

  initProducer(): { producerId: number } {
    const producerId = this.#sequences.allocate()
    this.storage.saveNextProducerId?.(this.#sequences.nextId)
    return { producerId }
  }

  async produce(topicName: string, records: readonly ProduceRecord[], options: ProduceOptions = {}): Promise<ProduceResult[]> {
    if (this.#stopping) throw new PubsubError('STOPPING', 'the broker is stopping and takes no new records')
    if (!Array.isArray(records) || records.length === 0) throw new PubsubError('INVALID_ARGUMENT', 'records: expected a non-empty array')
    const topic = this.topic(topicName)
    let batchBytes = 0
    records.forEach((record, i) => {
      if (!Buffer.isBuffer(record.value)) throw new PubsubError('MALFORMED', `records[${i}].value: expected bytes`)
      const size = recordSize(record)
      if (size > this.options.maxRecordBytes) {
        throw new PubsubError('RECORD_TOO_LARGE', `records[${i}] is ${size} bytes, over maxRecordBytes ${this.options.maxRecordBytes} (PUBSUB_MAX_RECORD_BYTES)`)
      }
      batchBytes += size
    })
    if (batchBytes > this.options.maxBatchBytes) {
      throw new PubsubError('BATCH_TOO_LARGE', `the batch is ${batchBytes} bytes, over maxBatchBytes ${this.options.maxBatchBytes} (PUBSUB_MAX_BATCH_BYTES)`)
    }
    if (this.#bytes + batchBytes > this.options.maxTotalBytes) {
      this.stats.refusedFull++
      throw new PubsubError(
        'BROKER_FULL',
        `the broker holds ${this.#bytes} bytes; ${batchBytes} more would pass maxTotalBytes ${this.options.maxTotalBytes} (PUBSUB_MAX_TOTAL_BYTES): retry once consumers or retention freed space`,
      )
    }
    const partitions = topic.logs.length
    const chosen = records.map((record, i) => this.#partitioner.pick(topicName, partitions, record, i === 0))
    const now = Date.now()
    let results: ProduceResult[]
    if (options.producerId !== undefined) {
      results = this.#appendIdempotent(topic, records, chosen, options, now)
    } else {
      results = new Array(records.length)
      const byPartition = new Map<number, number[]>()
      chosen.forEach((p, i) => {
        const indexes = byPartition.get(p)
        if (indexes) indexes.push(i)
        else byPartition.set(p, [i])
      })
      for (const [partition, indexes] of byPartition) {
        const log = topic.logs[partition]!
        let offset = log.endOffset
        const stored = indexes.map((i) => {
          results[i] = { partition, offset }
          return toStored(records[i]!, offset++, now)
        })
        this.#append(topic, log, stored)
      }
    }
    this.stats.produced += records.length
    await this.storage.durable?.()
    return results
  }

  #appendIdempotent(topic: Topic, records: readonly ProduceRecord[], chosen: number[], options: ProduceOptions, now: number): ProduceResult[] {
    const partition = chosen[0]!
    if (chosen.some((p) => p !== partition)) throw new PubsubError('INVALID_ARGUMENT', 'an idempotent batch goes to one partition: give records the same partition')
    const baseSequence = options.baseSequence
    if (!Number.isInteger(baseSequence) || baseSequence! < 0) throw new PubsubError('INVALID_ARGUMENT', `baseSequence: expected an integer >= 0, got ${baseSequence}`)
    const key = `${topic.meta.name}/${partition}`
    const seen = this.#sequences.check(options.producerId!, key, baseSequence!, records.length)
    if (seen !== undefined) return records.map((_, i) => ({ partition, offset: seen + i }))
    const log = topic.logs[partition]!
    const base = log.endOffset
    this.#append(
      topic,
      log,
      records.map((r, i) => toStored(r, base + i, now)),
      { producerId: options.producerId!, baseSequence: baseSequence!, count: records.length },
    )
    this.#sequences.appended(options.producerId!, key, baseSequence!, records.length, base)
    return records.map((_, i) => ({ partition, offset: base + i }))
  }

  #append(topic: Topic, log: PartitionLog, stored: StoredRecord[], batch?: ProducerBatch): void {
    const before = log.store.bytes
    log.append(stored, batch)
    this.#bytes += log.store.bytes - before
    const r = topic.meta.retention
    if (r.maxRecords > 0 || r.maxBytes > 0) this.#bytes -= log.enforce({ ...r, maxAgeMs: 0 }, Date.now())
  }

  // ---- fetch ----

  async fetch(topic: string, partition: number, offset: number, options: FetchOptions = {}): Promise<FetchResult> {
    const log = this.log(topic, partition)
    const maxMessages = options.maxMessages ?? 500
    const maxBytes = options.maxBytes ?? 1_048_576
    const maxWaitMs = Math.min(options.maxWaitMs ?? 0, MAX_FETCH_WAIT_MS)
    if (!Number.isInteger(maxMessages) || maxMessages < 1) throw new PubsubError('INVALID_ARGUMENT', `maxMessages: expected an integer >= 1, got ${maxMessages}`)
    if (!Number.isInteger(maxBytes) || maxBytes < 1) throw new PubsubError('INVALID_ARGUMENT', `maxBytes: expected an integer >= 1, got ${maxBytes}`)
    log.check(offset)
    if (offset === log.endOffset && maxWaitMs > 0 && !this.#stopping) await log.waitFor(offset, maxWaitMs, options.signal)
    const records = log.read(offset, maxMessages, maxBytes)
    this.stats.fetched += records.length
    return { records, highWatermark: log.endOffset, logStartOffset: log.startOffset }
  }

  /** The offset `target` names on a partition. */
  resolveOffset(topic: string, partition: number, target: SeekTarget): number {
    const log = this.log(topic, partition)
    if (target === 'earliest') return log.startOffset
    if (target === 'latest') return log.endOffset
    if ('offset' in target) {
      log.check(target.offset)
      return target.offset
    }
    if (!Number.isFinite(target.timestamp)) throw new PubsubError('INVALID_ARGUMENT', `timestamp: expected milliseconds since the epoch, got ${target.timestamp}`)
    return log.store.offsetForTimestamp(target.timestamp)
  }

  // ---- groups ----

  group(id: string, create?: { mode?: GroupMode; assignor?: AssignorName }): ConsumerGroup {
    let group = this.#groups.get(id)
    if (group) {
      if (create?.mode && create.mode !== group.mode) throw new PubsubError('GROUP_MODE_MISMATCH', `group '${id}' is ${group.mode}, not ${create.mode}`)
      return group
    }
    if (!create && !this.#restoredGroups.has(id)) throw new PubsubError('UNKNOWN_GROUP', `group '${id}' does not exist`)
    if (typeof id !== 'string' || !/^[a-zA-Z0-9._:-]{1,249}$/.test(id))
      throw new PubsubError('INVALID_ARGUMENT', `group id ${JSON.stringify(id)}: expected 1 to 249 of [a-zA-Z0-9._:-]`)
    const mode = create?.mode ?? 'exclusive'
    const assignor = create?.assignor ?? 'cooperative-sticky'
    if (!GROUP_MODES.includes(mode)) throw new PubsubError('INVALID_ARGUMENT', `mode: expected one of ${GROUP_MODES.join(', ')}, got ${JSON.stringify(mode)}`)
    if (!ASSIGNORS.includes(assignor)) throw new PubsubError('INVALID_ARGUMENT', `assignor: expected one of ${ASSIGNORS.join(', ')}, got ${JSON.stringify(assignor)}`)
    group = new ConsumerGroup(
      id,
      mode,
      assignor,
      {
        log: (t, p) => this.log(t, p),
        partitionsOf: (t) => this.topic(t, { create: false }).logs.length,
        saveOffset: (g, t, p, o) => this.storage.saveOffset(g, t, p, o),
        saveGeneration: (g, generation) => this.storage.saveGeneration(g, generation),
        deadLetter: (t, record, headers) => void this.#deadLetter(t, record, headers),
        newMemberId: (g) => `${g}-${randomUUID()}`,
        resetPolicy: this.options.resetPolicy,
      },
      this.#restoredGroups.get(id),
    )
    this.#groups.set(id, group)
    return group
  }

  groups(): string[] {
    return [...new Set([...this.#groups.keys(), ...this.#restoredGroups.keys()])].sort()
  }

  join(groupId: string, options: JoinOptions & { mode?: GroupMode; assignor?: AssignorName }): MemberState {
    if (this.#stopping) throw new PubsubError('STOPPING', 'the broker is stopping and takes no new subscriptions')
    if (!Array.isArray(options.topics) || options.topics.length === 0) throw new PubsubError('INVALID_ARGUMENT', 'topics: expected a non-empty array of topic names')
    for (const t of options.topics) this.topic(t)
    if (!Number.isInteger(options.sessionTimeoutMs) || options.sessionTimeoutMs < 100 || options.sessionTimeoutMs > 3_600_000) {
      throw new PubsubError('INVALID_ARGUMENT', `sessionTimeoutMs: expected an integer from 100 to 3600000, got ${options.sessionTimeoutMs}`)
    }
    if (options.push) checkPush(options.push.options)
    return this.group(groupId, { mode: options.mode ?? 'exclusive', assignor: options.assignor ?? 'cooperative-sticky' }).join(options, Date.now())
  }

  /** Admin seek: the group's committed offset moves, and push delivery restarts there. */
  seek(groupId: string, topic: string, partition: number, target: SeekTarget): number {
    const offset = this.resolveOffset(topic, partition, target)
    this.group(groupId, {}).setCommitted(topic, partition, offset, { resetPush: true })
    return offset
  }

  async #deadLetter(topic: string, record: StoredRecord, headers: Record<string, string>): Promise<void> {
    const dead = `${topic}.dead`
    if (!this.#topics.has(dead)) this.createTopic(dead, { partitions: 1 })
    await this.produce(dead, [{ key: record.key, value: record.value, headers: { ...record.headers, ...headers } }]).catch(() => {})
  }

  // ---- lifecycle ----

  get bytes(): number {
    return this.#bytes
  }

  describe() {
    return {
      storage: this.storage.kind,
      topics: this.#topics.size,
      groups: this.#groups.size,
      bytes: this.#bytes,
      maxTotalBytes: this.options.maxTotalBytes,
      producers: this.#sequences.size,
      ...this.stats,
    }
  }

  /** Ingress: no new records or subscriptions; push deliveries stop (what is unacknowledged stays so). */
  stopIngress(): void {
    this.#stopping = true
    for (const group of this.#groups.values()) group.pauseAll()
    this.delayed.stop()
  }

  get stopping(): boolean {
    return this.#stopping
  }

  close(): Promise<void> {
    this.#closed ??= (async () => {
      this.stopIngress()
      clearInterval(this.#ticker)
      for (const group of this.#groups.values()) group.close()
      await this.storage.flush()
      await this.storage.close()
    })()
    return this.#closed
  }

  #open(meta: TopicMeta): void {
    const logs = Array.from({ length: meta.partitions }, (_, p) => new PartitionLog(meta.name, p, this.storage.openPartition(meta.name, p)))
    for (const log of logs) {
      this.#bytes += log.store.bytes
      const batches = log.store.restoredBatches?.()
      if (batches?.length) this.#sequences.restore(`${meta.name}/${log.partition}`, batches)
    }
    this.#topics.set(meta.name, { meta, logs })
  }

  #tick(): void {
    const now = Date.now()
    for (const topic of this.#topics.values()) {
      if (topic.meta.retention.maxAgeMs > 0) for (const log of topic.logs) this.#bytes -= log.enforce(topic.meta.retention, now)
    }
    for (const group of this.#groups.values()) group.tick(now)
  }
}

function toStored(record: ProduceRecord, offset: number, now: number): StoredRecord {
  const stored: { -readonly [K in keyof StoredRecord]: StoredRecord[K] } = { offset, timestamp: record.timestamp ?? now, value: record.value, headers: record.headers ?? {} }
  if (record.key !== undefined) stored.key = record.key
  return stored
}

function checkPush(options: { maxAckPending: number; ackWaitMs: number; maxDeliveries: number }): void {
  const check = (key: string, value: number, min: number, max: number) => {
    if (!Number.isInteger(value) || value < min || value > max) throw new PubsubError('INVALID_ARGUMENT', `${key}: expected an integer from ${min} to ${max}, got ${value}`)
  }
  check('maxAckPending', options.maxAckPending, 1, 65_535)
  check('ackWaitMs', options.ackWaitMs, 0, 3_600_000)
  check('maxDeliveries', options.maxDeliveries, 0, 1_000_000)
}
