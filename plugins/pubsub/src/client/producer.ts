// producer.send(): batching (records sent within lingerMs go together), one pipelined
/* eslint-disable @typescript-eslint/no-explicit-any -- proto-loader makes untyped clients and packages */
// ProduceStream carrying every batch, retries on a lost connection, and idempotence (the
// producer partitions records itself and numbers each partition's batches, so a batch resent
// after a lost acknowledgement is appended once).
import { Partitioner } from '../partitioner.ts'
import type { ProduceRecord } from '../record.ts'
import { PubsubError } from '../errors.ts'
import { produceToWire } from '../wire.ts'
import { ConnectionError, type PubsubConnection } from './connection.ts'

export interface ProducerOptions {
  idempotent?: boolean
  /** Wait this long for more records before sending a batch (0: the next turn of the event loop). */
  lingerMs?: number
  maxBatchRecords?: number
  /** Attempts per batch on a lost connection or a retriable refusal. */
  retries?: number
  /** Partitions of a topic the producer creates on first send (0: the broker's default). */
  createPartitions?: number
}

interface Pending {
  topic: string
  partition: number | undefined
  records: ProduceRecord[]
  waiters: Array<{ from: number; count: number; resolve: (offsets: Array<{ partition: number; offset: number }>) => void; reject: (error: Error) => void }>
}

interface InFlight {
  request: object
  resolve: (reply: { offsets: Array<{ partition: number; offset: string }> }) => void
  reject: (error: Error) => void
}

export class Producer {
  readonly #connection: PubsubConnection
  readonly #options: Required<ProducerOptions>
  readonly #partitioner = new Partitioner('sticky')
  readonly #partitions = new Map<string, number>()
  readonly #sequences = new Map<string, number>()
  #producerId: Promise<number> | undefined
  /** The producer id once InitProducer answered, read without an await. */
  #knownId: number | undefined
  #batches = new Map<string, Pending>()
  #timer: NodeJS.Timeout | undefined
  #stream: any
  #nextId = 1
  readonly #inFlight = new Map<number, InFlight>()

  constructor(connection: PubsubConnection, options: ProducerOptions = {}) {
    this.#connection = connection
    this.#options = { idempotent: true, lingerMs: 0, maxBatchRecords: 500, retries: 8, createPartitions: 0, ...options }
  }

  /** Resolves with each record's partition and offset once the broker acknowledged its batch. */
  async send(input: {
    topic: string
    messages: Array<{ key?: string | Buffer; value: string | Buffer; headers?: Record<string, string>; partition?: number }>
  }): Promise<Array<{ partition: number; offset: number }>> {
    const { topic } = input
    const idempotent = this.#options.idempotent
    // A known partition count is read without an await: one message costs few microtasks.
    const partitions = idempotent ? (this.#partitions.get(topic) ?? (await this.#partitionCount(topic))) : 0
    const groups = new Map<number | undefined, { records: ProduceRecord[]; indexes: number[] }>()
    for (let index = 0; index < input.messages.length; index++) {
      const m = input.messages[index]!
      const record: ProduceRecord = { value: Buffer.from(m.value), headers: m.headers ?? {} }
      if (m.key !== undefined) record.key = Buffer.from(m.key)
      if (m.partition !== undefined) record.partition = m.partition
      const partition = idempotent ? this.#partitioner.pick(topic, partitions, record, index === 0) : record.partition
      if (partition !== undefined) record.partition = partition
      let group = groups.get(partition)
      if (!group) groups.set(partition, (group = { records: [], indexes: [] }))
      group.records.push(record)
      group.indexes.push(index)
    }
    // Usually every record goes to one partition: its offsets are the answer, in order.
    if (groups.size === 1) {
      const [[partition, group]] = groups
      return this.#enqueue(topic, partition, group!.records)
    }
    const results: Array<{ partition: number; offset: number }> = new Array(input.messages.length)
    await Promise.all(
      [...groups].map(async ([partition, group]) => {
        const offsets = await this.#enqueue(topic, partition, group.records)
        group.indexes.forEach((index, i) => (results[index] = offsets[i]!))
      }),
    )
    return results
  }

  async close(): Promise<void> {
    this.#flush()
    while (this.#inFlight.size) await new Promise((resolve) => setTimeout(resolve, 10))
    this.#stream?.end()
  }

  #enqueue(topic: string, partition: number | undefined, records: ProduceRecord[]): Promise<Array<{ partition: number; offset: number }>> {
    const key = `${topic}/${partition ?? '*'}`
    let batch = this.#batches.get(key)
    if (!batch) this.#batches.set(key, (batch = { topic, partition, records: [], waiters: [] }))
    const from = batch.records.length
    batch.records.push(...records)
    const done = new Promise<Array<{ partition: number; offset: number }>>((resolve, reject) => batch.waiters.push({ from, count: records.length, resolve, reject }))
    if (batch.records.length >= this.#options.maxBatchRecords) this.#flush()
    else if (!this.#timer) this.#timer = setTimeout(() => this.#flush(), this.#options.lingerMs)
    return done
  }

  #flush(): void {
    clearTimeout(this.#timer)
    this.#timer = undefined
    const batches = [...this.#batches.values()]
    this.#batches = new Map()
    for (const batch of batches) void this.#sendBatch(batch)
  }

  async #sendBatch(batch: Pending): Promise<void> {
    try {
      const request: Record<string, unknown> = { topic: batch.topic, records: batch.records.map(produceToWire), create_partitions: this.#options.createPartitions }
      if (this.#options.idempotent) {
        const key = `${batch.topic}/${batch.partition}`
        const base = this.#sequences.get(key) ?? 0
        this.#sequences.set(key, base + batch.records.length)
        request.producer_id = this.#knownId ?? (await this.#id())
        request.base_sequence = base
      }
      let lastError: Error | undefined
      for (let attempt = 0; attempt <= this.#options.retries; attempt++) {
        try {
          const reply = await this.#roundTrip(request)
          const offsets = reply.offsets.map((o) => ({ partition: o.partition, offset: Number(o.offset) }))
          for (const w of batch.waiters) w.resolve(offsets.slice(w.from, w.from + w.count))
          return
        } catch (error) {
          lastError = error as Error
          // A sequence gap after a lost connection means an earlier batch is being resent: wait for it.
          const retriable = error instanceof ConnectionError || (error instanceof PubsubError && (error.retriable || error.code === 'OUT_OF_ORDER_SEQUENCE'))
          if (!retriable) break
          await new Promise((resolve) => setTimeout(resolve, Math.min(2000, 50 * 2 ** attempt)))
        }
      }
      throw lastError ?? new Error('produce failed')
    } catch (error) {
      for (const w of batch.waiters) w.reject(error as Error)
    }
  }

  #roundTrip(request: object): Promise<{ offsets: Array<{ partition: number; offset: string }> }> {
    const stream = this.#open()
    const id = this.#nextId++
    return new Promise((resolve, reject) => {
      this.#inFlight.set(id, { request, resolve, reject })
      stream.write({ ...request, id })
    })
  }

  #open(): any {
    if (this.#stream) return this.#stream
    const stream = this.#connection.raw.ProduceStream()
    this.#stream = stream
    stream.on('data', (reply: { id: string; offsets: Array<{ partition: number; offset: string }>; error_code: string; error: string }) => {
      const id = Number(reply.id)
      const flight = this.#inFlight.get(id)
      if (!flight) return
      this.#inFlight.delete(id)
      if (reply.error_code) flight.reject(new PubsubError(reply.error_code as never, reply.error.replace(/^[A-Z_]+: /, '')))
      else flight.resolve(reply)
    })
    const lost = (error?: Error) => {
      if (this.#stream !== stream) return
      this.#stream = undefined
      const failed = [...this.#inFlight.values()]
      this.#inFlight.clear()
      for (const f of failed) f.reject(new ConnectionError(`the produce stream ended${error ? `: ${error.message}` : ''}`))
    }
    stream.on('error', lost)
    stream.on('end', () => lost())
    return stream
  }

  #id(): Promise<number> {
    this.#producerId ??= this.#retrying(() => this.#connection.call<{ producer_id: string }>('InitProducer', {})).then((r) => (this.#knownId = Number(r.producer_id)))
    this.#producerId.catch(() => (this.#producerId = undefined))
    return this.#producerId
  }

  /** A metadata call, sent again after a lost connection. */
  async #retrying<T>(call: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await call()
      } catch (error) {
        if (!(error instanceof ConnectionError) || attempt >= this.#options.retries) throw error
        await new Promise((resolve) => setTimeout(resolve, Math.min(2000, 50 * 2 ** attempt)))
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
