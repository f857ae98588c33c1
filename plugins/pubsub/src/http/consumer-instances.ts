// Consumer instances as Confluent's REST Proxy has them: an HTTP client creates an instance in a
// group, subscribes it to topics (it becomes a pull member of the group), fetches records and
// commits offsets. Each request on an instance is its heartbeat; one silent for longer than its
// session timeout is gone (UNKNOWN_MEMBER), and what it had not committed goes to another member.
//
// The instance keeps a position per partition it holds (the next offset to fetch). On each fetch
// it takes part in the group's rebalance: partitions being revoked are committed first when
// auto-commit is on, then released, and newly granted ones start at the committed offset or
// by the reset policy. A commit carries the generation the instance saw at its last fetch, so a
// commit after a rebalance it has not yet seen is ILLEGAL_GENERATION, as in Kafka.
import { randomUUID } from 'node:crypto'
import { tpKey, type TopicPartition } from '../assignors.ts'
import type { Broker } from '../broker.ts'
import { PubsubError } from '../errors.ts'
import type { ConsumerGroup } from '../group.ts'
import { recordToJson, type JsonRecord } from './json-records.ts'

export interface InstanceOptions {
  /** Where a partition without a committed offset starts (and where an out-of-range position goes). */
  reset: 'earliest' | 'latest'
  /** Each fetch first commits what the previous fetches returned. */
  autoCommit: boolean
  sessionTimeoutMs: number
}

interface Instance extends InstanceOptions {
  id: string
  group: string
  memberId: string | undefined
  topics: string[]
  generation: number
  lastSeen: number
  /** The next offset to fetch, per partition held. */
  positions: Map<string, number>
}

export interface RecordsOptions {
  maxWaitMs: number
  maxBytes: number
  maxMessages: number
  signal?: AbortSignal | undefined
}

/** How long one turn of a long poll waits before looking at the group again (new partitions, revocations). */
const POLL_SLICE_MS = 250

const parseKey = (key: string): TopicPartition => {
  const slash = key.lastIndexOf('/')
  return { topic: key.slice(0, slash), partition: Number(key.slice(slash + 1)) }
}

export class ConsumerInstances {
  readonly #instances = new Map<string, Instance>()
  readonly #sweeper: NodeJS.Timeout

  constructor(
    readonly broker: Broker,
    readonly maxInstances = 1000,
  ) {
    this.#sweeper = setInterval(() => this.#sweep(Date.now()), 1000)
    this.#sweeper.unref()
  }

  get size(): number {
    return this.#instances.size
  }

  create(group: string, options: InstanceOptions): { id: string } {
    this.#sweep(Date.now())
    if (this.#instances.size >= this.maxInstances) {
      throw new PubsubError('BROKER_FULL', `${this.#instances.size} consumer instances exist, the most allowed (PUBSUB_HTTP_MAX_CONSUMERS); delete idle ones or retry later`)
    }
    // The group exists from here on (its id checked), as the instance's home.
    this.broker.group(group, {})
    const id = randomUUID()
    this.#instances.set(id, { ...options, id, group, memberId: undefined, topics: [], generation: 0, lastSeen: Date.now(), positions: new Map() })
    return { id }
  }

  delete(group: string, id: string): void {
    const instance = this.#get(group, id)
    this.#leave(instance)
    this.#instances.delete(id)
  }

  subscribe(group: string, id: string, topics: unknown): void {
    const instance = this.#get(group, id)
    if (!Array.isArray(topics) || topics.length === 0 || topics.some((t) => typeof t !== 'string')) {
      throw new PubsubError('INVALID_ARGUMENT', 'topics: expected a non-empty array of topic names')
    }
    this.#leave(instance)
    const state = this.broker.join(group, { topics: topics as string[], sessionTimeoutMs: instance.sessionTimeoutMs, mode: 'exclusive', clientId: `http:${id}` })
    instance.memberId = state.memberId
    instance.generation = state.generation
    instance.topics = [...new Set(topics as string[])]
  }

  subscription(group: string, id: string): string[] {
    return this.#get(group, id).topics
  }

  unsubscribe(group: string, id: string): void {
    this.#leave(this.#get(group, id))
  }

  assignments(group: string, id: string): TopicPartition[] {
    const instance = this.#get(group, id)
    if (!instance.memberId) return []
    this.#refresh(instance)
    return [...instance.positions.keys()].map(parseKey)
  }

  async records(group: string, id: string, options: RecordsOptions): Promise<JsonRecord[]> {
    const instance = this.#get(group, id)
    if (!instance.memberId) throw new PubsubError('INVALID_ARGUMENT', `consumer instance ${id} has no subscription (POST .../subscription first)`)
    const deadline = Date.now() + options.maxWaitMs
    for (;;) {
      this.#refresh(instance)
      if (instance.autoCommit) this.#commitPositions(instance)
      const out = this.#collect(instance, options)
      const left = deadline - Date.now()
      if (out.length || left <= 0 || options.signal?.aborted) return out
      await this.#waitAny(instance, Math.min(left, POLL_SLICE_MS), options.signal)
      if (!this.#instances.has(id)) throw new PubsubError('UNKNOWN_MEMBER', `consumer instance ${id} was deleted during the fetch`)
    }
  }

  /** Commits `offsets` (each the last record processed, so the group resumes after it), or every position when none are given. */
  commit(group: string, id: string, offsets: unknown): void {
    const instance = this.#get(group, id)
    const member = this.#member(instance)
    if (offsets === undefined) return this.#commitPositions(instance)
    if (!Array.isArray(offsets)) throw new PubsubError('MALFORMED', 'offsets: expected an array of { topic, partition, offset }')
    const next = offsets.map((o, i) => {
      const tp = this.#partitionOf(`offsets[${i}]`, o)
      const offset = (o as { offset?: unknown }).offset
      if (!Number.isInteger(offset)) throw new PubsubError('MALFORMED', `offsets[${i}].offset: expected an integer`)
      const log = this.broker.log(tp.topic, tp.partition)
      if ((offset as number) < 0 || (offset as number) >= log.endOffset) {
        throw new PubsubError('OFFSET_OUT_OF_RANGE', `offsets[${i}]: ${tp.topic}/${tp.partition} has records up to offset ${log.endOffset - 1}, got ${offset}`)
      }
      return { ...tp, offset: (offset as number) + 1 }
    })
    this.#guard(instance, () => this.#group(instance).commit(member, instance.generation, next, Date.now()))
  }

  /** The group's committed offsets (the next record to read) of the partitions of the subscription. */
  committed(group: string, id: string): Array<TopicPartition & { offset: number }> {
    const instance = this.#get(group, id)
    const out: Array<TopicPartition & { offset: number }> = []
    const g = this.#group(instance)
    for (const topic of instance.topics) {
      const partitions = this.broker.topic(topic, { create: false }).logs.length
      for (let partition = 0; partition < partitions; partition++) {
        const offset = g.committed(topic, partition)
        if (offset !== undefined) out.push({ topic, partition, offset })
      }
    }
    return out
  }

  /** Moves the instance's fetch positions (held partitions only). */
  seek(group: string, id: string, targets: unknown, to?: 'earliest' | 'latest'): void {
    const instance = this.#get(group, id)
    if (!instance.memberId) throw new PubsubError('INVALID_ARGUMENT', `consumer instance ${id} has no subscription`)
    this.#refresh(instance)
    const field = to ? 'partitions' : 'offsets'
    if (!Array.isArray(targets) || targets.length === 0) throw new PubsubError('MALFORMED', `${field}: expected a non-empty array of { topic, partition${to ? '' : ', offset'} }`)
    const moves = targets.map((t, i) => {
      const tp = this.#partitionOf(`${field}[${i}]`, t)
      const key = tpKey(tp)
      if (!instance.positions.has(key)) throw new PubsubError('NOT_OWNER', `consumer instance ${id} does not hold ${key}`)
      const offset = to ?? { offset: (t as { offset?: unknown }).offset as number }
      if (!to && !Number.isInteger((offset as { offset: unknown }).offset)) throw new PubsubError('MALFORMED', `${field}[${i}].offset: expected an integer`)
      return [key, this.broker.resolveOffset(tp.topic, tp.partition, offset)] as const
    })
    for (const [key, offset] of moves) instance.positions.set(key, offset)
  }

  close(): void {
    clearInterval(this.#sweeper)
    for (const instance of this.#instances.values()) this.#leave(instance)
    this.#instances.clear()
  }

  #get(group: string, id: string): Instance {
    const instance = this.#instances.get(id)
    if (!instance || instance.group !== group) {
      throw new PubsubError(
        'UNKNOWN_MEMBER',
        `group '${group}' has no consumer instance ${JSON.stringify(id)} (it was deleted or timed out; create one with POST /consumers/${group})`,
      )
    }
    instance.lastSeen = Date.now()
    return instance
  }

  #group(instance: Instance): ConsumerGroup {
    return this.broker.group(instance.group, {})
  }

  #member(instance: Instance): string {
    if (!instance.memberId) throw new PubsubError('INVALID_ARGUMENT', `consumer instance ${instance.id} has no subscription (POST .../subscription first)`)
    return instance.memberId
  }

  /** Runs a group call; a member the broker no longer knows ends the instance. */
  #guard<T>(instance: Instance, run: () => T): T {
    try {
      return run()
    } catch (error) {
      if (error instanceof PubsubError && error.code === 'UNKNOWN_MEMBER') {
        this.#instances.delete(instance.id)
        throw new PubsubError(
          'UNKNOWN_MEMBER',
          `consumer instance ${instance.id} of group '${instance.group}' timed out (no request for ${instance.sessionTimeoutMs} ms); create a new one`,
        )
      }
      throw error
    }
  }

  #partitionOf(at: string, raw: unknown): TopicPartition {
    const o = raw as { topic?: unknown; partition?: unknown } | null
    if (!o || typeof o !== 'object' || typeof o.topic !== 'string') throw new PubsubError('MALFORMED', `${at}.topic: expected a topic name`)
    if (!Number.isInteger(o.partition)) throw new PubsubError('INVALID_PARTITION', `${at}.partition: expected an integer, got ${JSON.stringify(o.partition)}`)
    this.broker.log(o.topic, o.partition as number)
    return { topic: o.topic, partition: o.partition as number }
  }

  /** Heartbeat: the current generation; revoked partitions committed (auto-commit) and released; new ones positioned. */
  #refresh(instance: Instance): void {
    const member = this.#member(instance)
    const group = this.#group(instance)
    const now = Date.now()
    let state = this.#guard(instance, () => group.heartbeat(member, now))
    instance.generation = state.generation
    if (state.revoking.length) {
      if (instance.autoCommit) this.#commitPositions(instance, new Set(state.revoking.map(tpKey)))
      state = group.release(member, state.revoking, now)
      instance.generation = state.generation
    }
    const held = new Set(state.assignment.map(tpKey))
    for (const key of state.revoking) held.delete(tpKey(key))
    for (const key of instance.positions.keys()) if (!held.has(key)) instance.positions.delete(key)
    for (const key of held) {
      if (instance.positions.has(key)) continue
      const { topic, partition } = parseKey(key)
      const log = this.broker.log(topic, partition)
      const committed = group.committed(topic, partition)
      instance.positions.set(key, committed !== undefined && committed >= log.startOffset ? committed : instance.reset === 'latest' ? log.endOffset : log.startOffset)
    }
  }

  #commitPositions(instance: Instance, only?: Set<string>): void {
    const member = this.#member(instance)
    const group = this.#group(instance)
    const offsets = [...instance.positions]
      .filter(([key, offset]) => (!only || only.has(key)) && group.committed(parseKey(key).topic, parseKey(key).partition) !== offset)
      .map(([key, offset]) => ({ ...parseKey(key), offset }))
    if (offsets.length) this.#guard(instance, () => group.commit(member, instance.generation, offsets, Date.now()))
  }

  #collect(instance: Instance, options: RecordsOptions): JsonRecord[] {
    const out: JsonRecord[] = []
    let bytes = 0
    // Start at a different partition each time, so one busy partition cannot starve the others.
    const keys = [...instance.positions.keys()]
    const first = keys.length ? Math.floor(Math.random() * keys.length) : 0
    for (let i = 0; i < keys.length && out.length < options.maxMessages && bytes < options.maxBytes; i++) {
      const key = keys[(first + i) % keys.length]!
      const { topic, partition } = parseKey(key)
      const log = this.broker.log(topic, partition)
      let position = instance.positions.get(key)!
      if (position < log.startOffset || position > log.endOffset) position = instance.reset === 'latest' ? log.endOffset : log.startOffset
      const records = log.read(position, options.maxMessages - out.length, options.maxBytes - bytes)
      for (const record of records) {
        const json = recordToJson(topic, partition, record)
        bytes += record.value.length + (record.key?.length ?? 0)
        out.push(json)
        position = record.offset + 1
      }
      instance.positions.set(key, position)
    }
    return out
  }

  /** Resolves when any held partition has a record past its position, after `ms`, or on abort. */
  async #waitAny(instance: Instance, ms: number, signal: AbortSignal | undefined): Promise<void> {
    const done = new AbortController()
    const stop = signal ? AbortSignal.any([signal, done.signal]) : done.signal
    const waits = [...instance.positions].map(([key, offset]) => {
      const { topic, partition } = parseKey(key)
      return this.broker.log(topic, partition).waitFor(offset, ms, stop)
    })
    if (waits.length === 0) waits.push(new Promise((resolve) => setTimeout(resolve, ms).unref()))
    await Promise.race(waits)
    done.abort()
  }

  #leave(instance: Instance): void {
    if (!instance.memberId) return
    try {
      this.#group(instance).leave(instance.memberId)
    } catch {
      // Its session had ended already.
    }
    instance.memberId = undefined
    instance.topics = []
    instance.positions.clear()
  }

  #sweep(now: number): void {
    for (const instance of [...this.#instances.values()]) {
      if (now - instance.lastSeen > instance.sessionTimeoutMs) {
        this.#leave(instance)
        this.#instances.delete(instance.id)
      }
    }
  }
}
