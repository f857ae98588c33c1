// producer.send(): records accumulate per partition into batches (closed at maxBatchBytes or
/* eslint-disable @typescript-eslint/no-explicit-any -- proto-loader makes untyped clients and packages */
// maxBatchRecords, or when lingerMs ran out), at most maxInFlight batches await their
// acknowledgement on one pipelined ProduceStream, the rest wait in order. Retries on a lost
// connection keep a batch's sequence; idempotence: the producer partitions records itself and
// numbers each partition's batches, so a batch resent after a lost acknowledgement is appended once.
import { Partitioner } from '../partitioner.ts'
import type { ProduceRecord } from '../record.ts'
import { PubsubError } from '../errors.ts'
import { packProduce } from '../packed.ts'
import { ConnectionError, type PubsubConnection } from './connection.ts'

export interface ProducerOptions {
  idempotent?: boolean
  /** Wait this long for more records before sending a batch (0: until the end of the current turn of the event loop). */
  lingerMs?: number
  /** A batch closes at this many records. */
  maxBatchRecords?: number
  /** A batch closes at this many bytes of record values, keys and headers (Kafka's batch.size). */
  maxBatchBytes?: number
  /** Batches awaiting their acknowledgement at once (Kafka's max.in.flight.requests.per.connection); more wait in order. */
  maxInFlight?: number
  /** Attempts per batch on a lost connection or a retriable refusal. */
  retries?: number
  /** Partitions of a topic the producer creates on first send (0: the broker's default). */
  createPartitions?: number
}

export const PRODUCER_DEFAULTS: Required<ProducerOptions> = {
  idempotent: true,
  lingerMs: 0,
  maxBatchRecords: 500,
  maxBatchBytes: 16_384,
  maxInFlight: 5,
  retries: 8,
  createPartitions: 0,
}

type Offsets = Array<{ partition: number; offset: number }>

export interface Message {
  key?: string | Buffer
  value: string | Buffer
  headers?: Record<string, string>
  partition?: number
}

interface Waiter {
  from: number
  count: number
  resolve: (offsets: Offsets) => void
  reject: (error: Error) => void
}

/** The producer id and the next sequence of each partition under it. */
interface Epoch {
  id: number
  sequences: Map<string, number>
}

interface Batch {
  /** `topic/partition`, or `topic/*` when the broker picks (not idempotent). */
  key: string
  topic: string
  records: ProduceRecord[]
  /** The records packed for the wire, once, when the batch is first sent (a resend sends the same bytes). */
  packed?: Buffer
  /** Records taken so far (as records, once joined). */
  count: number
  bytes: number
  waiters: Waiter[]
  /** Set when the batch is first sent; kept on every resend. */
  epoch?: Epoch
  sequence?: number
  /** The batch was numbered again under a new producer id once; a second UNKNOWN_PRODUCER fails it. */
  renewed: boolean
}

/** `offsets`, or (an idempotent batch, offset_range) none and the partition and first offset. */
interface ProduceReply {
  offsets: Array<{ partition: number; offset: string }>
  partition: number
  base_offset: string
}

interface InFlight {
  resolve: (reply: ProduceReply) => void
  reject: (error: Error) => void
}

/** Bytes a record counts toward maxBatchBytes: its value, key and headers. */
function batchBytes(record: ProduceRecord): number {
  let size = record.value.length + (record.key?.length ?? 0)
  for (const name in record.headers) size += name.length + record.headers[name]!.length
  return size
}

function checkOptions(options: Required<ProducerOptions>): void {
  for (const name of ['maxBatchRecords', 'maxBatchBytes', 'maxInFlight'] as const) {
    const value = options[name]
    if (!Number.isInteger(value) || value < 1) throw new PubsubError('INVALID_ARGUMENT', `producer option ${name}: expected an integer >= 1, got ${value}`)
  }
  for (const name of ['lingerMs', 'retries'] as const) {
    const value = options[name]
    if (!Number.isFinite(value) || value < 0) throw new PubsubError('INVALID_ARGUMENT', `producer option ${name}: expected a number >= 0, got ${value}`)
  }
}

const backoff = (attempt: number) => new Promise((resolve) => setTimeout(resolve, Math.min(2000, 50 * 2 ** attempt)))

export class Producer {
  readonly #connection: PubsubConnection
  readonly #options: Required<ProducerOptions>
  readonly #partitioner = new Partitioner('sticky')
  readonly #partitions = new Map<string, number>()
  #epoch: Epoch | undefined
  /** InitProducer under way (the first one, or a new id after UNKNOWN_PRODUCER): nothing is numbered meanwhile. */
  #epochPending: Promise<Epoch> | undefined
  /** Open batches, one per partition, still taking records. */
  readonly #open = new Map<string, Batch>()
  /** Open batches whose linger ran out: sent as soon as an in-flight slot frees. */
  readonly #due = new Set<Batch>()
  /** Closed batches waiting for an in-flight slot, in the order they closed. */
  readonly #queue: Batch[] = []
  /** Batches sent and not yet acknowledged or failed, in the order they were first sent. */
  readonly #unacked = new Set<Batch>()
  #lingering = false
  #stream: any
  #nextId = 1
  readonly #replies = new Map<number, InFlight>()
  #idle: Array<() => void> = []

  constructor(connection: PubsubConnection, options: ProducerOptions = {}) {
    this.#connection = connection
    this.#options = { ...PRODUCER_DEFAULTS, ...options }
    checkOptions(this.#options)
  }

  /** Resolves with each record's partition and offset once the broker acknowledged its batch. */
  send(input: { topic: string; messages: Message[] }): Promise<Offsets> {
    // A known partition count is read without an await, and one message costs one promise.
    const partitions = this.#options.idempotent ? this.#partitions.get(input.topic) : 0
    if (partitions === undefined) return this.#partitionCount(input.topic).then(() => this.send(input))
    try {
      if (input.messages.length === 1) {
        const record = this.#record(input.topic, partitions, input.messages[0]!, true)
        return this.#enqueue(input.topic, record.partition, [record])
      }
      return this.#sendGroups(input.topic, input.messages, partitions)
    } catch (error) {
      return Promise.reject(error as Error)
    }
  }

  async #sendGroups(topic: string, messages: Message[], partitions: number): Promise<Offsets> {
    const groups = new Map<number | undefined, { records: ProduceRecord[]; indexes: number[] }>()
    for (let index = 0; index < messages.length; index++) {
      const record = this.#record(topic, partitions, messages[index]!, index === 0)
      let group = groups.get(record.partition)
      if (!group) groups.set(record.partition, (group = { records: [], indexes: [] }))
      group.records.push(record)
      group.indexes.push(index)
    }
    // Usually every record goes to one partition: its offsets are the answer, in order.
    if (groups.size === 1) {
      const [[partition, group]] = groups
      return this.#enqueue(topic, partition, group!.records)
    }
    const results: Offsets = new Array(messages.length)
    await Promise.all(
      [...groups].map(async ([partition, group]) => {
        const offsets = await this.#enqueue(topic, partition, group.records)
        group.indexes.forEach((index, i) => (results[index] = offsets[i]!))
      }),
    )
    return results
  }

  /** Sends what is open at once and resolves when every batch is acknowledged or failed. */
  async close(): Promise<void> {
    for (const batch of this.#open.values()) this.#due.add(batch)
    this.#pump()
    while (this.#busy) await new Promise<void>((resolve) => this.#idle.push(resolve))
    this.#stream?.end()
  }

  get #busy(): boolean {
    return this.#open.size > 0 || this.#queue.length > 0 || this.#unacked.size > 0
  }

  #record(topic: string, partitions: number, m: Message, first: boolean): ProduceRecord {
    const record: ProduceRecord = { value: Buffer.from(m.value), headers: m.headers ?? {} }
    if (m.key !== undefined) record.key = Buffer.from(m.key)
    if (m.partition !== undefined) record.partition = m.partition
    if (this.#options.idempotent) {
      // KIP-480: keyless records stay on the sticky partition while its batch is open, and move on once it closed.
      const sticky = this.#partitioner.sticky(topic)
      const batchStart = first && (sticky === undefined || !this.#open.has(`${topic}/${sticky}`))
      record.partition = this.#partitioner.pick(topic, partitions, record, batchStart)
    }
    return record
  }

  /** Appends records to the partition's open batch, closing it (and opening another) at the limits. */
  #enqueue(topic: string, partition: number | undefined, records: ProduceRecord[]): Promise<Offsets> {
    const key = `${topic}/${partition ?? '*'}`
    const { maxBatchRecords, maxBatchBytes } = this.#options
    const parts: Array<Promise<Offsets>> = []
    let batch = this.#open.get(key)
    let from = 0
    for (let i = 0; i < records.length; i++) {
      const size = batchBytes(records[i]!)
      // A record that would pass a limit closes the batch (a larger record alone still makes one).
      if (batch && batch.count > 0 && (batch.count >= maxBatchRecords || batch.bytes + size > maxBatchBytes)) {
        if (i > from) parts.push(this.#join(batch, records, from, i))
        from = i
        this.#close(batch)
        batch = undefined
      }
      if (!batch) this.#open.set(key, (batch = { key, topic, records: [], count: 0, bytes: 0, waiters: [], renewed: false }))
      batch.count++
      batch.bytes += size
    }
    if (batch && from < records.length) parts.push(this.#join(batch, records, from, records.length))
    if (batch && (batch.count >= maxBatchRecords || batch.bytes >= maxBatchBytes)) this.#close(batch)
    this.#linger()
    this.#pump()
    if (parts.length === 1) return parts[0]!
    return Promise.all(parts).then((offsets) => offsets.flat())
  }

  #join(batch: Batch, records: ProduceRecord[], from: number, to: number): Promise<Offsets> {
    const at = batch.records.length
    for (let i = from; i < to; i++) batch.records.push(records[i]!)
    return new Promise<Offsets>((resolve, reject) => batch.waiters.push({ from: at, count: to - from, resolve, reject }))
  }

  #close(batch: Batch): void {
    if (this.#open.get(batch.key) === batch) this.#open.delete(batch.key)
    this.#due.delete(batch)
    this.#queue.push(batch)
  }

  /** lingerMs 0: the open batches become due at the end of this turn (setImmediate), after every send of the turn joined them. */
  #linger(): void {
    if (this.#lingering || this.#open.size === 0) return
    this.#lingering = true
    const due = () => {
      this.#lingering = false
      for (const batch of this.#open.values()) this.#due.add(batch)
      this.#pump()
    }
    if (this.#options.lingerMs === 0) setImmediate(due)
    else setTimeout(due, this.#options.lingerMs)
  }

  /** Sends waiting batches while in-flight slots are free: closed ones first, then open ones whose linger ran out. */
  #pump(): void {
    const idempotent = this.#options.idempotent
    while (this.#unacked.size < this.#options.maxInFlight) {
      if (idempotent && !this.#epoch) {
        void this.#newEpoch(undefined).then(
          () => this.#pump(),
          (error) => this.#failWaiting(error as Error),
        )
        return
      }
      let batch = this.#queue.shift()
      if (!batch) {
        const [due] = this.#due
        if (!due) break
        this.#close(due)
        batch = this.#queue.shift()!
      }
      // Numbered when first sent, in the order sent, so a partition's batches go in sequence order.
      if (idempotent) this.#number(batch, this.#epoch!)
      this.#unacked.add(batch)
      void this.#run(batch)
    }
    if (!this.#busy) for (const resolve of this.#idle.splice(0)) resolve()
  }

  #number(batch: Batch, epoch: Epoch): void {
    const key = batch.key
    const sequence = epoch.sequences.get(key) ?? 0
    epoch.sequences.set(key, sequence + batch.records.length)
    batch.epoch = epoch
    batch.sequence = sequence
  }

  async #run(batch: Batch): Promise<void> {
    let lastError: Error | undefined
    try {
      for (let attempt = 0; attempt <= this.#options.retries; attempt++) {
        if (this.#epochPending) await this.#epochPending
        batch.packed ??= packProduce(batch.records)
        const request: Record<string, unknown> = { id: 0, topic: batch.topic, packed_records: batch.packed, create_partitions: this.#options.createPartitions }
        const sentUnder = batch.epoch
        if (batch.epoch) {
          request.producer_id = batch.epoch.id
          request.base_sequence = batch.sequence
          request.offset_range = true
        }
        try {
          const reply = await this.#roundTrip(request)
          this.#settle(batch)
          for (const w of batch.waiters) {
            const offsets: Offsets = new Array(w.count)
            if (reply.offsets.length === 0) {
              const base = Number(reply.base_offset) + w.from
              for (let i = 0; i < w.count; i++) offsets[i] = { partition: reply.partition, offset: base + i }
            } else {
              for (let i = 0; i < w.count; i++) {
                const o = reply.offsets[w.from + i]!
                offsets[i] = { partition: o.partition, offset: Number(o.offset) }
              }
            }
            w.resolve(offsets)
          }
          return
        } catch (error) {
          lastError = error as Error
          if (error instanceof PubsubError && error.code === 'UNKNOWN_PRODUCER' && sentUnder) {
            // The broker forgot the id (a memory broker restarted): a new id, every unacknowledged batch numbered again, once.
            if (sentUnder !== this.#epoch) continue
            if (batch.renewed) break
            await this.#newEpoch(sentUnder)
            continue
          }
          // A sequence gap after a lost connection means an earlier batch is being resent: wait for it.
          const retriable = error instanceof ConnectionError || (error instanceof PubsubError && (error.retriable || error.code === 'OUT_OF_ORDER_SEQUENCE'))
          if (!retriable) break
          await backoff(attempt)
        }
      }
      throw lastError ?? new Error('produce failed')
    } catch (error) {
      this.#settle(batch)
      for (const w of batch.waiters) w.reject(error as Error)
    }
  }

  #settle(batch: Batch): void {
    this.#unacked.delete(batch)
    // A slot is free: the next batch goes, after this turn's callbacks resolved.
    queueMicrotask(() => this.#pump())
  }

  /** InitProducer; after UNKNOWN_PRODUCER of `forgotten`, the batches numbered under it get new sequences, in the order they were first sent. */
  #newEpoch(forgotten: Epoch | undefined): Promise<Epoch> {
    if (this.#epochPending) return this.#epochPending
    if (this.#epoch && this.#epoch !== forgotten) return Promise.resolve(this.#epoch)
    this.#epoch = undefined
    const pending = this.#retrying(() => this.#connection.call<{ producer_id: string }>('InitProducer', {})).then((r) => {
      const epoch: Epoch = { id: Number(r.producer_id), sequences: new Map() }
      for (const batch of this.#unacked) {
        if (!forgotten || batch.epoch !== forgotten) continue
        this.#number(batch, epoch)
        batch.renewed = true
      }
      this.#epoch = epoch
      return epoch
    })
    this.#epochPending = pending
    pending.then(
      () => (this.#epochPending = undefined),
      () => (this.#epochPending = undefined),
    )
    return pending
  }

  /** InitProducer failed for good: what waits for a number fails with it. */
  #failWaiting(error: Error): void {
    const waiting = [...this.#queue, ...this.#due]
    this.#queue.length = 0
    for (const batch of this.#due) this.#open.delete(batch.key)
    this.#due.clear()
    for (const batch of waiting) for (const w of batch.waiters) w.reject(error)
    this.#pump()
  }

  #roundTrip(request: Record<string, unknown>): Promise<ProduceReply> {
    const stream = this.#openStream()
    const id = this.#nextId++
    return new Promise((resolve, reject) => {
      this.#replies.set(id, { resolve, reject })
      request.id = id
      stream.write(request)
    })
  }

  #openStream(): any {
    if (this.#stream) return this.#stream
    const stream = this.#connection.raw.ProduceStream()
    this.#stream = stream
    stream.on('data', (reply: ProduceReply & { id: string; error_code: string; error: string }) => {
      const id = Number(reply.id)
      const flight = this.#replies.get(id)
      if (!flight) return
      this.#replies.delete(id)
      if (reply.error_code) flight.reject(new PubsubError(reply.error_code as never, reply.error.replace(/^[A-Z_]+: /, '')))
      else flight.resolve(reply)
    })
    const lost = (error?: Error) => {
      if (this.#stream !== stream) return
      this.#stream = undefined
      const failed = [...this.#replies.values()]
      this.#replies.clear()
      for (const f of failed) f.reject(new ConnectionError(`the produce stream ended${error ? `: ${error.message}` : ''}`))
    }
    stream.on('error', lost)
    stream.on('end', () => lost())
    return stream
  }

  /** A metadata call, sent again after a lost connection. */
  async #retrying<T>(call: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await call()
      } catch (error) {
        if (!(error instanceof ConnectionError) || attempt >= this.#options.retries) throw error
        await backoff(attempt)
      }
    }
  }

  async #partitionCount(topic: string): Promise<number> {
    let count = this.#partitions.get(topic)
    if (count === undefined) {
      const info = await this.#retrying(() =>
        this.#connection.call<{ partitions: number }>('CreateTopic', { name: topic, partitions: this.#options.createPartitions, if_not_exists: true }),
      )
      count = info.partitions
      this.#partitions.set(topic, count)
    }
    return count
  }
}
