// A pull member of an exclusive group: Join, a heartbeat loop that learns the assignment and
// what to give back, one PartitionRunner per granted partition, commits (auto or explicit), and
// rejoining when the broker forgot the member (its session ended, a lost connection outlived
// it). A revoked partition is stopped after the record in hand, committed, then released, so
// its next owner starts exactly after the last handled record.
import { tpKey, type TopicPartition } from '../assignors.ts'
import { PubsubError } from '../errors.ts'
import { ConnectionError, type PubsubConnection } from './connection.ts'
import { retryDelay, sleep, type ConsumerEvents, type PartitionPosition, type ResolvedConsumerOptions, type RunOptions } from './consumer-options.ts'
import { PartitionRunner, type PartitionHost } from './pull-partition.ts'

interface WireState {
  member_id: string
  generation: number
  assignment: TopicPartition[]
  revoking: TopicPartition[]
}

type Emit = <E extends keyof ConsumerEvents>(name: E, ...args: ConsumerEvents[E]) => void

export class PullMember implements PartitionHost {
  #memberId = ''
  #generation = 0
  readonly #runners = new Map<string, PartitionRunner>()
  #stopped = false
  #beatTimer: NodeJS.Timeout | undefined
  #commitTimer: NodeJS.Timeout | undefined
  /** When the broker last answered for this member: past the session timeout, the broker may have given its partitions away. */
  #lastContact = 0
  #rejoining: Promise<void> | undefined
  /** Replies to state calls are applied in the order the calls were sent. */
  #sent = 0
  #applied = 0
  #running = 0
  readonly #waiting: Array<() => void> = []

  constructor(
    readonly connection: PubsubConnection,
    readonly options: ResolvedConsumerOptions,
    readonly topics: string[],
    readonly handlers: RunOptions,
    readonly emit: Emit,
  ) {}

  get memberId(): string {
    return this.#memberId
  }

  assignment(): TopicPartition[] {
    return [...this.#runners.values()].map((r) => r.tp)
  }

  /** Joins; a refusal that cannot heal (an unknown topic, a bad option) rejects. */
  async start(): Promise<void> {
    await this.#join({ failFast: true })
    this.#scheduleBeat()
    if (this.options.autoCommit) {
      this.#commitTimer = setInterval(() => void this.#commitAll().catch((error: Error) => this.warn(error)), this.options.autoCommitIntervalMs)
    }
  }

  async stop(): Promise<void> {
    if (this.#stopped) return
    this.#stopped = true
    clearTimeout(this.#beatTimer)
    clearInterval(this.#commitTimer)
    const runners = [...this.#runners.values()]
    await Promise.all(runners.map((r) => r.stop()))
    if (this.options.autoCommit) await this.#commit(runners).catch((error: Error) => this.warn(error))
    this.#runners.clear()
    if (this.#memberId) await this.connection.call('Leave', { group: this.options.groupId, member_id: this.#memberId }, 5000).catch(() => {})
  }

  /** Explicit commit of positions (the next offset to read) of partitions this member holds. */
  async commitOffsets(positions: PartitionPosition[]): Promise<void> {
    const runners: PartitionRunner[] = []
    for (const p of positions) {
      const runner = this.#runners.get(tpKey(p))
      if (!runner) throw new PubsubError('NOT_OWNER', `this member does not hold ${tpKey(p)}`)
      runner.position = p.offset
      runners.push(runner)
    }
    await this.#commit(runners)
  }

  // ---- PartitionHost ----

  async startOffset(tp: TopicPartition): Promise<number> {
    const reply = await this.connection.call<{ offsets: Array<{ committed: string; has_committed: boolean; start: string; end: string }> }>('Offsets', {
      group: this.options.groupId,
      partitions: [tp],
    })
    const o = reply.offsets[0]!
    const [committed, start, end] = [Number(o.committed), Number(o.start), Number(o.end)]
    if (o.has_committed && committed >= start && committed <= end) return committed
    return this.options.fromBeginning ? start : end
  }

  async alive(runner: PartitionRunner): Promise<boolean> {
    // A member that has not heard from the broker for a session may be gone from the group: it
    // hands out nothing more until a heartbeat (or a rejoin) settles it.
    while (runner.running && !this.#stopped && Date.now() - this.#lastContact > this.options.sessionTimeoutMs * 0.8) await sleep(20)
    return runner.running && !this.#stopped
  }

  async gate<T>(work: () => Promise<T>): Promise<T> {
    while (this.#running >= this.options.partitionsConsumedConcurrently) await new Promise<void>((resolve) => this.#waiting.push(resolve))
    this.#running++
    try {
      return await work()
    } finally {
      this.#running--
      this.#waiting.shift()?.()
    }
  }

  async heartbeat(): Promise<void> {
    if (this.#stopped || !this.#memberId) return
    const seq = ++this.#sent
    try {
      const state = await this.connection.call<WireState>('Heartbeat', { group: this.options.groupId, member_id: this.#memberId }, this.#callTimeout())
      this.#lastContact = Date.now()
      this.#apply(state, seq)
    } catch (error) {
      await this.#failed(error as Error)
    }
  }

  commit(runner: PartitionRunner): Promise<void> {
    return this.#commit([runner])
  }

  assigned(runner: PartitionRunner): void {
    this.emit('assigned', { ...runner.tp, offset: runner.position! })
  }

  retry(error: Error, runner: PartitionRunner): void {
    this.emit('retry', { error, ...runner.tp, offset: runner.position ?? -1 })
  }

  warn(error: Error): void {
    this.emit('warning', error)
  }

  // ---- membership ----

  async #join({ failFast }: { failFast: boolean }): Promise<void> {
    for (let attempt = 0; !this.#stopped; attempt++) {
      const seq = ++this.#sent
      try {
        const state = await this.connection.call<WireState>(
          'Join',
          {
            group: this.options.groupId,
            topics: this.topics,
            session_timeout_ms: this.options.sessionTimeoutMs,
            mode: 'exclusive',
            assignor: this.options.assignor,
            member_id: this.#memberId,
            client_id: this.options.clientId,
          },
          this.#callTimeout(),
        )
        this.#memberId = state.member_id
        this.#lastContact = Date.now()
        this.emit('join', { memberId: state.member_id, generation: state.generation })
        this.#apply(state, seq)
        return
      } catch (error) {
        const healable = error instanceof ConnectionError || (error instanceof PubsubError && error.retriable)
        if (failFast && !healable) throw error
        this.warn(error as Error)
        await sleep(retryDelay(this.options.retryDelayMs, attempt))
      }
    }
  }

  /** The broker no longer knows this member: what it held is lost (uncommitted records go to the next owner); join again. */
  #rejoin(): Promise<void> {
    this.#rejoining ??= (async () => {
      const lost = [...this.#runners.values()]
      this.#runners.clear()
      await Promise.all(lost.map((r) => r.stop()))
      for (const r of lost) this.emit('lost', { ...r.tp, offset: r.position ?? -1 })
      this.#memberId = ''
      await this.#join({ failFast: false })
    })().finally(() => (this.#rejoining = undefined))
    return this.#rejoining
  }

  async #failed(error: Error): Promise<void> {
    if (this.#stopped) return
    if (error instanceof PubsubError && (error.code === 'UNKNOWN_MEMBER' || error.code === 'UNKNOWN_GROUP')) {
      this.warn(error)
      await this.#rejoin()
    } else {
      this.warn(error)
    }
  }

  #scheduleBeat(): void {
    if (this.#stopped) return
    const revoking = [...this.#runners.values()].some((r) => r.revoking)
    this.#beatTimer = setTimeout(
      () => {
        void (this.#rejoining ?? this.heartbeat()).finally(() => this.#scheduleBeat())
      },
      // While a rebalance runs the member asks more often, so partitions move without waiting a whole interval.
      revoking || this.#runners.size === 0 ? Math.min(100, this.options.heartbeatIntervalMs) : this.options.heartbeatIntervalMs,
    )
  }

  /** Brings the runners in line with what the broker says this member holds and must give back. */
  #apply(state: WireState, seq: number): void {
    if (seq < this.#applied || this.#stopped) return
    this.#applied = seq
    this.#generation = state.generation
    const granted = new Set(state.assignment.map(tpKey))
    const revoking = new Set(state.revoking.map(tpKey))
    for (const [key, runner] of this.#runners) {
      if (granted.has(key) || runner.revoking) continue
      // Taken away without a revocation (the broker expired this member and it rejoined under the same id).
      this.#runners.delete(key)
      void runner.stop().then(() => this.emit('lost', { ...runner.tp, offset: runner.position ?? -1 }))
    }
    for (const tp of state.revoking) {
      const runner = this.#runners.get(tpKey(tp))
      if (runner?.revoking) continue
      if (runner) void this.#revoke(runner)
      else void this.#release([tp])
    }
    for (const tp of state.assignment) {
      const key = tpKey(tp)
      if (revoking.has(key) || this.#runners.has(key)) continue
      this.#runners.set(key, new PartitionRunner({ topic: tp.topic, partition: tp.partition }, this))
    }
  }

  async #revoke(runner: PartitionRunner): Promise<void> {
    runner.revoking = true
    this.emit('revoking', { ...runner.tp })
    await runner.stop()
    if (this.options.autoCommit) await this.#commit([runner]).catch((error: Error) => this.warn(error))
    if (this.#runners.get(tpKey(runner.tp)) === runner) this.#runners.delete(tpKey(runner.tp))
    await this.#release([runner.tp])
    this.emit('revoked', { ...runner.tp, offset: runner.position ?? -1 })
  }

  async #release(tps: TopicPartition[]): Promise<void> {
    for (let attempt = 0; !this.#stopped && this.#memberId; attempt++) {
      const seq = ++this.#sent
      try {
        const state = await this.connection.call<WireState>('Release', { group: this.options.groupId, member_id: this.#memberId, partitions: tps }, this.#callTimeout())
        this.#lastContact = Date.now()
        this.#apply(state, seq)
        return
      } catch (error) {
        if (!(error instanceof ConnectionError)) return this.#failed(error as Error)
        this.warn(error)
        await sleep(retryDelay(this.options.retryDelayMs, attempt))
      }
    }
  }

  #commitAll(): Promise<void> {
    return this.#commit([...this.#runners.values()].filter((r) => !r.revoking))
  }

  /** Commits each runner's position when it moved; a stale generation is refreshed by a heartbeat and tried once more. */
  async #commit(runners: PartitionRunner[], again = true): Promise<void> {
    const due = runners.filter((r) => r.position !== undefined && r.position > r.committed)
    if (due.length === 0 || !this.#memberId) return
    const offsets = due.map((r) => ({ ...r.tp, offset: r.position! }))
    try {
      await this.connection.call('Commit', { group: this.options.groupId, member_id: this.#memberId, generation: this.#generation, offsets }, this.#callTimeout())
      this.#lastContact = Date.now()
      offsets.forEach((o, i) => (due[i]!.committed = Math.max(due[i]!.committed, o.offset)))
      this.emit('commit', offsets)
    } catch (error) {
      if (again && error instanceof PubsubError && (error.code === 'ILLEGAL_GENERATION' || error.code === 'NOT_OWNER')) {
        // A rebalance moved the generation (cooperative: this member keeps what did not move): learn it and commit again.
        await this.heartbeat()
        const kept = due.filter((r) => this.#runners.get(tpKey(r.tp)) === r || r.revoking)
        return this.#commit(kept, false)
      }
      if (error instanceof PubsubError && error.code === 'UNKNOWN_MEMBER') void this.#rejoin()
      throw error
    }
  }

  #callTimeout(): number {
    return Math.max(1000, Math.floor(this.options.sessionTimeoutMs / 2))
  }
}
