// A consumer group: members with session timeouts, the generation that fences stale members,
// broker-side assignment with revocation (eager or cooperative), committed offsets, and push
// delivery through one dispatcher per partition.
//
// Modes: `exclusive` is Kafka's model (each partition has one owner at a time; a partition
// moves only after its old owner released it, so per-partition order holds across a
// rebalance). `shared` is a work queue (JetStream's shared consumer): every push member takes
// from every partition, so members compete for records; it is what the queue port uses.
import { assign, isEager, tpKey, type AssignorName, type TopicPartition } from './assignors.ts'
import { PartitionDispatcher, type Delivery } from './dispatcher.ts'
import { PubsubError } from './errors.ts'
import type { PartitionLog } from './partition-log.ts'
import type { StoredRecord } from './record.ts'

export const GROUP_MODES = ['exclusive', 'shared'] as const
export type GroupMode = (typeof GROUP_MODES)[number]

export interface PushOptions {
  /** Records delivered to this member and not yet acknowledged, at most. */
  maxAckPending: number
  /** A delivery not acknowledged within this many ms is delivered again; 0: never (the session timeout covers a dead member). */
  ackWaitMs: number
  /** After this many deliveries a record goes to `<topic>.dead`; 0: no bound. */
  maxDeliveries: number
}

/** Where a push member's deliveries go (a stream, a callback). Called synchronously; must not throw. */
export type DeliverySink = (delivery: Delivery) => void

export interface JoinOptions {
  topics: string[]
  sessionTimeoutMs: number
  /** Rejoin under the id handed out before (after a lost connection); unknown ids get a new one. */
  memberId?: string | undefined
  clientId?: string | undefined
  push?: { options: PushOptions; sink: DeliverySink } | undefined
}

export interface GroupHost {
  log(topic: string, partition: number): PartitionLog
  partitionsOf(topic: string): number
  saveOffset(group: string, topic: string, partition: number, offset: number): void
  saveGeneration(group: string, generation: number): void
  deadLetter(topic: string, record: StoredRecord, headers: Record<string, string>): void
  newMemberId(group: string): string
  /** Where a new member starts when the group has no committed offset. */
  resetPolicy: 'earliest' | 'latest'
}

interface Member {
  id: string
  clientId: string
  topics: string[]
  sessionTimeoutMs: number
  lastSeen: number
  joinedAt: number
  /** Partitions it holds now: it may fetch, commit and receive them. */
  granted: Set<string>
  /** Granted partitions it must give back (commit, then release). */
  revoking: Set<string>
  push: { options: PushOptions; sink: DeliverySink; pending: number; paused: boolean; saturatedSince: number | undefined } | undefined
}

export interface MemberState {
  memberId: string
  generation: number
  assignment: TopicPartition[]
  revoking: TopicPartition[]
}

const parseKey = (key: string): TopicPartition => {
  const slash = key.lastIndexOf('/')
  return { topic: key.slice(0, slash), partition: Number(key.slice(slash + 1)) }
}

export class ConsumerGroup {
  #generation: number
  readonly #members = new Map<string, Member>()
  /** Partition → the member the assignor chose (exclusive mode). */
  #target = new Map<string, string>()
  readonly #committed = new Map<string, number>()
  readonly #dispatchers = new Map<string, PartitionDispatcher>()
  readonly #unwatch = new Map<string, () => void>()
  #pumping = false
  #again = false
  #rebalances = 0
  #deadLettered = 0

  constructor(
    readonly id: string,
    readonly mode: GroupMode,
    readonly assignor: AssignorName,
    readonly host: GroupHost,
    restored: { generation: number; offsets: Array<{ topic: string; partition: number; offset: number }> } = { generation: 0, offsets: [] },
  ) {
    this.#generation = restored.generation
    for (const o of restored.offsets) this.#committed.set(tpKey(o), o.offset)
  }

  get generation(): number {
    return this.#generation
  }
  get size(): number {
    return this.#members.size
  }

  join(options: JoinOptions, now: number): MemberState {
    if (this.mode === 'shared' && !options.push) throw new PubsubError('GROUP_MODE_MISMATCH', `group '${this.id}' is shared (push only); pull members need an exclusive group`)
    let member = options.memberId ? this.#members.get(options.memberId) : undefined
    if (member) {
      member.lastSeen = now
      if (options.push) member.push = { ...options.push, pending: member.push?.pending ?? 0, paused: false, saturatedSince: undefined }
      return this.#state(member)
    }
    member = {
      id: this.host.newMemberId(this.id),
      clientId: options.clientId ?? '',
      topics: [...new Set(options.topics)],
      sessionTimeoutMs: options.sessionTimeoutMs,
      lastSeen: now,
      joinedAt: now,
      granted: new Set(),
      revoking: new Set(),
      push: options.push ? { ...options.push, pending: 0, paused: false, saturatedSince: undefined } : undefined,
    }
    this.#members.set(member.id, member)
    for (const topic of member.topics) this.#watch(topic)
    this.#rebalance()
    return this.#state(member)
  }

  /** Keeps the member alive; answers its assignment and what it must give back. */
  heartbeat(memberId: string, now: number): MemberState {
    const member = this.#member(memberId)
    member.lastSeen = now
    return this.#state(member)
  }

  /** A pull member gives back revoked partitions (after committing them). */
  release(memberId: string, partitions: readonly TopicPartition[], now: number): MemberState {
    const member = this.#member(memberId)
    member.lastSeen = now
    for (const tp of partitions) {
      const key = tpKey(tp)
      member.granted.delete(key)
      member.revoking.delete(key)
    }
    this.#settle()
    return this.#state(member)
  }

  leave(memberId: string): void {
    const member = this.#member(memberId)
    this.#remove(member)
  }

  /** A push member stops taking new records (cancel: its running handlers still acknowledge). */
  pause(memberId: string): void {
    const member = this.#member(memberId)
    if (member.push) member.push.paused = true
  }

  /** A commit by a member: it must be of the current generation and hold each partition. */
  commit(memberId: string, generation: number, offsets: ReadonlyArray<TopicPartition & { offset: number }>, now: number): void {
    const member = this.#member(memberId)
    member.lastSeen = now
    if (generation !== this.#generation) {
      throw new PubsubError(
        'ILLEGAL_GENERATION',
        `group '${this.id}' is at generation ${this.#generation}, the commit was for generation ${generation} (rejoin or heartbeat first)`,
      )
    }
    for (const o of offsets) {
      const key = tpKey(o)
      if (this.mode === 'exclusive' && !member.granted.has(key)) throw new PubsubError('NOT_OWNER', `member ${memberId} of group '${this.id}' does not hold ${key}`)
    }
    for (const o of offsets) this.setCommitted(o.topic, o.partition, o.offset)
  }

  /** Sets the committed offset (a commit, or an admin seek that also restarts push delivery there). */
  setCommitted(topic: string, partition: number, offset: number, { resetPush = false } = {}): void {
    const log = this.host.log(topic, partition)
    if (!Number.isInteger(offset) || offset < 0 || offset > log.endOffset) {
      throw new PubsubError('OFFSET_OUT_OF_RANGE', `offset ${offset} of ${topic}/${partition} is beyond the end ${log.endOffset}`)
    }
    const key = tpKey({ topic, partition })
    this.#committed.set(key, offset)
    this.host.saveOffset(this.id, topic, partition, offset)
    if (resetPush) {
      this.#dispatchers.get(key)?.reset(offset)
      this.#pump()
    }
  }

  committed(topic: string, partition: number): number | undefined {
    return this.#committed.get(tpKey({ topic, partition }))
  }

  committedAll(): Array<TopicPartition & { offset: number }> {
    return [...this.#committed].map(([key, offset]) => ({ ...parseKey(key), offset }))
  }

  ack(memberId: string, topic: string, partition: number, offset: number): void {
    this.ackRange(memberId, topic, partition, offset, 1)
  }

  /** Acknowledges `count` consecutive offsets from `first`, with the lookups done once. */
  ackRange(memberId: string, topic: string, partition: number, first: number, count: number): void {
    const member = this.#member(memberId)
    const key = tpKey({ topic, partition })
    const dispatcher = this.#dispatchers.get(key)
    if (!dispatcher) return
    let acked = 0
    for (let offset = first; offset < first + count; offset++) if (dispatcher.ack(memberId, offset)) acked++
    if (acked === 0) return
    if (member.push) member.push.pending -= acked
    this.#afterRelease(member, key, dispatcher)
    this.#pump()
  }

  /** Gives a delivery back: redelivered after `delayMs` (0: at once), or dead-lettered once it had maxDeliveries. */
  nak(memberId: string, topic: string, partition: number, offset: number, delayMs: number, now: number, reason = 'nak'): void {
    const member = this.#member(memberId)
    const key = tpKey({ topic, partition })
    const dispatcher = this.#dispatchers.get(key)
    if (!dispatcher) return
    const outcome = dispatcher.giveBack(memberId, offset, delayMs, now, member.push?.options.maxDeliveries ?? 0)
    if (!outcome) return
    if (member.push) member.push.pending--
    if (outcome.action === 'exhausted' && outcome.record) {
      this.#deadLettered++
      this.host.deadLetter(topic, outcome.record, {
        'x-pubsub-reason': reason,
        'x-pubsub-topic': topic,
        'x-pubsub-partition': String(partition),
        'x-pubsub-offset': String(offset),
        'x-pubsub-deliveries': String(outcome.deliveries),
        'x-pubsub-group': this.id,
      })
    }
    this.#afterRelease(member, key, dispatcher)
    this.#pump()
  }

  /** The broker's tick: expires silent members, redelivers what ran past ackWait, delivers what became due. */
  tick(now: number): void {
    for (const member of [...this.#members.values()]) if (now - member.lastSeen > member.sessionTimeoutMs) this.#remove(member)
    for (const [key, dispatcher] of this.#dispatchers) {
      const { topic, partition } = parseKey(key)
      for (const [memberId, offset] of dispatcher.expired(now)) if (this.#members.has(memberId)) this.nak(memberId, topic, partition, offset, 0, now, 'ackWait expired')
    }
    this.#pump()
  }

  /** A partition got records (or a topic got partitions). */
  wake(): void {
    this.#pump()
  }

  /** Partitions grew: new partitions join the assignment. */
  topicChanged(topic: string): void {
    if ([...this.#members.values()].some((m) => m.topics.includes(topic))) {
      this.#watch(topic)
      this.#rebalance()
    }
  }

  lag(): Array<TopicPartition & { committed: number | null; end: number; start: number; lag: number }> {
    const topics = new Set([...this.#members.values()].flatMap((m) => m.topics))
    for (const key of this.#committed.keys()) topics.add(parseKey(key).topic)
    const out = []
    for (const topic of [...topics].sort()) {
      let partitions: number
      try {
        partitions = this.host.partitionsOf(topic)
      } catch {
        continue
      }
      for (let partition = 0; partition < partitions; partition++) {
        const log = this.host.log(topic, partition)
        const committed = this.#committed.get(tpKey({ topic, partition }))
        const from = committed ?? log.startOffset
        out.push({ topic, partition, committed: committed ?? null, start: log.startOffset, end: log.endOffset, lag: Math.max(0, log.endOffset - Math.max(from, log.startOffset)) })
      }
    }
    return out
  }

  describe(now: number) {
    return {
      group: this.id,
      mode: this.mode,
      assignor: this.assignor,
      generation: this.#generation,
      rebalances: this.#rebalances,
      deadLettered: this.#deadLettered,
      state: this.#members.size === 0 ? 'empty' : [...this.#members.values()].some((m) => m.revoking.size > 0) ? 'rebalancing' : 'stable',
      members: [...this.#members.values()].map((m) => ({
        memberId: m.id,
        clientId: m.clientId,
        topics: m.topics,
        mode: m.push ? 'push' : 'pull',
        assignment: [...m.granted].map(parseKey),
        revoking: [...m.revoking].map(parseKey),
        lastSeenMsAgo: now - m.lastSeen,
        ...(m.push
          ? { ackPending: m.push.pending, maxAckPending: m.push.options.maxAckPending, saturated: m.push.pending >= m.push.options.maxAckPending, paused: m.push.paused }
          : {}),
      })),
    }
  }

  /** Push members at their maxAckPending now. */
  saturated(): number {
    let n = 0
    for (const m of this.#members.values()) if (m.push && m.push.pending >= m.push.options.maxAckPending) n++
    return n
  }

  /** Stops every push member (shutdown): deliveries stop, what is unacknowledged stays so. */
  pauseAll(): void {
    for (const m of this.#members.values()) if (m.push) m.push.paused = true
  }

  close(): void {
    for (const unwatch of this.#unwatch.values()) unwatch()
    this.#unwatch.clear()
  }

  #member(memberId: string): Member {
    const member = this.#members.get(memberId)
    if (!member) throw new PubsubError('UNKNOWN_MEMBER', `group '${this.id}' has no member ${JSON.stringify(memberId)} (it left or its session timed out; join again)`)
    return member
  }

  #state(member: Member): MemberState {
    return {
      memberId: member.id,
      generation: this.#generation,
      assignment: [...member.granted].map(parseKey),
      revoking: [...member.revoking].map(parseKey),
    }
  }

  #remove(member: Member): void {
    this.#members.delete(member.id)
    for (const dispatcher of this.#dispatchers.values()) dispatcher.releaseMember(member.id)
    if (member.push) member.push.pending = 0
    this.#rebalance()
  }

  /** A new generation: a new target assignment, partitions that move are revoked first. */
  #rebalance(): void {
    this.#generation++
    this.#rebalances++
    this.host.saveGeneration(this.id, this.#generation)
    if (this.mode === 'exclusive') {
      const members = [...this.#members.values()]
      const target = assign(
        this.assignor,
        members.map((m) => ({ id: m.id, topics: m.topics, owned: [...m.granted].map(parseKey) })),
        (topic) => this.#partitionsOrZero(topic),
      )
      this.#target = new Map()
      for (const [memberId, tps] of target) for (const tp of tps) this.#target.set(tpKey(tp), memberId)
      for (const member of members) {
        for (const key of member.granted) {
          if (isEager(this.assignor) || this.#target.get(key) !== member.id) member.revoking.add(key)
        }
        // A push member releases on its own once it holds nothing of a revoked partition.
        if (member.push) for (const key of [...member.revoking]) this.#afterRelease(member, key, this.#dispatchers.get(key))
      }
    }
    this.#settle()
  }

  /** Grants each target partition whose previous owner has let go. */
  #settle(): void {
    if (this.mode === 'exclusive') {
      const held = new Map<string, string>()
      for (const m of this.#members.values()) for (const key of m.granted) held.set(key, m.id)
      for (const [key, memberId] of this.#target) {
        const member = this.#members.get(memberId)
        if (!member || held.has(key)) continue
        member.granted.add(key)
        held.set(key, memberId)
      }
    }
    this.#pump()
  }

  #afterRelease(member: Member, key: string, dispatcher: PartitionDispatcher | undefined): void {
    if (member.push && member.revoking.has(key) && (!dispatcher || dispatcher.pendingOf(member.id) === 0)) {
      member.revoking.delete(key)
      member.granted.delete(key)
      this.#settle()
    }
  }

  #partitionsOrZero(topic: string): number {
    try {
      return this.host.partitionsOf(topic)
    } catch {
      return 0
    }
  }

  #watch(topic: string): void {
    const partitions = this.#partitionsOrZero(topic)
    for (let partition = 0; partition < partitions; partition++) {
      const key = tpKey({ topic, partition })
      if (this.#unwatch.has(key)) continue
      this.#unwatch.set(
        key,
        this.host.log(topic, partition).onAppend(() => this.#schedulePump()),
      )
    }
  }

  #scheduled = false
  #schedulePump(): void {
    if (this.#scheduled) return
    this.#scheduled = true
    queueMicrotask(() => {
      this.#scheduled = false
      this.#pump()
    })
  }

  #dispatcher(key: string): PartitionDispatcher {
    let dispatcher = this.#dispatchers.get(key)
    if (!dispatcher) {
      const { topic, partition } = parseKey(key)
      const log = this.host.log(topic, partition)
      const committed = this.#committed.get(key)
      const start = committed !== undefined && committed >= log.startOffset ? committed : this.host.resetPolicy === 'latest' ? log.endOffset : log.startOffset
      dispatcher = new PartitionDispatcher(log, start)
      this.#dispatchers.set(key, dispatcher)
    }
    return dispatcher
  }

  /** Partitions a push member may receive now. */
  #eligible(member: Member): string[] {
    if (this.mode === 'exclusive') return [...member.granted].filter((key) => !member.revoking.has(key))
    const keys: string[] = []
    for (const topic of member.topics) for (let p = 0; p < this.#partitionsOrZero(topic); p++) keys.push(tpKey({ topic, partition: p }))
    return keys
  }

  #pump(): void {
    if (this.#pumping) {
      this.#again = true
      return
    }
    this.#pumping = true
    try {
      do {
        this.#again = false
        this.#deliverRound()
      } while (this.#again)
    } finally {
      this.#pumping = false
    }
    this.#commitProgress()
  }

  #turn = 0
  #deliverRound(): void {
    const now = Date.now()
    const members = [...this.#members.values()].filter((m) => m.push && !m.push.paused)
    let progressed = true
    while (progressed) {
      progressed = false
      for (const member of members) {
        const push = member.push!
        if (!this.#members.has(member.id) || push.paused) continue
        const keys = this.#eligible(member)
        for (let i = 0; i < keys.length && push.pending < push.options.maxAckPending; i++) {
          const key = keys[(i + this.#turn) % keys.length]!
          const dispatcher = this.#dispatcher(key)
          if (!dispatcher.ready(now)) continue
          const batch = dispatcher.take(member.id, Math.min(push.options.maxAckPending - push.pending, 256), now, push.options.ackWaitMs)
          push.pending += batch.length
          for (const delivery of batch) push.sink(delivery)
          if (batch.length) progressed = true
        }
        if (push.pending >= push.options.maxAckPending) push.saturatedSince ??= now
        else push.saturatedSince = undefined
      }
      this.#turn++
    }
  }

  /** The dispatchers' committed offsets into the group's (and storage). */
  #commitProgress(): void {
    for (const [key, dispatcher] of this.#dispatchers) {
      if (this.#committed.get(key) !== dispatcher.committed && dispatcher.committed > (this.#committed.get(key) ?? -1)) {
        const { topic, partition } = parseKey(key)
        this.#committed.set(key, dispatcher.committed)
        this.host.saveOffset(this.id, topic, partition, dispatcher.committed)
      }
    }
  }

  /** The soonest a waiting redelivery becomes due. */
  nextDue(): number {
    let due = Infinity
    for (const d of this.#dispatchers.values()) due = Math.min(due, d.nextDue())
    return due
  }
}
