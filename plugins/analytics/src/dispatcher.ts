// The dispatcher: wakes on NOTIFY (and on a polling interval, the fallback), leases batches of
// due rows and hands each batch to a worker slot; a worker processes its rows, heartbeats the
// leases while it works, and completes the batch in one fenced transaction. The rescuer, on its
// own interval, returns leases that expired (a worker killed or cut off) to pending.
//
// Rows this instance ingested while its workers had room arrive through the hand-off already
// leased (see handoff.ts): a worker takes those first, and claims from the table when it is
// told due rows may be there (a NOTIFY, the poll, a rescue) or the hand-off is empty, so rows of
// other instances, retries and rescues are never starved by a steady stream of fresh ones.
import { retryDelayMs, type BackoffOptions } from './backoff.ts'
import type { Handoff } from './handoff.ts'
import type { ClaimedRow, Completion, Done, Failed, LeaseStore, RescueResult } from './leases.ts'
import type { ProcessorChain, RawEvent } from './processor.ts'

export interface DispatcherOptions {
  leases: LeaseStore
  processors: ProcessorChain
  /** This instance's name in `lease_owner`. */
  owner: string
  /** Batches processed at once. */
  workers: number
  claimBatch: number
  leaseMs: number
  heartbeatMs: number
  pollIntervalMs: number
  rescueIntervalMs: number
  backoff: BackoffOptions
  /** Rows ingested here and inserted leased to this owner. */
  handoff?: Handoff
  /** Runs one batch's claim (so a span can wrap it). */
  aroundClaim?(claim: () => Promise<ClaimedRow[]>): Promise<ClaimedRow[]>
  /** Runs one row's processing (so a span can wrap it, as a child of the row's ingest trace). */
  aroundProcess?<T>(row: ClaimedRow, process: () => Promise<T>): Promise<T>
  events?: DispatcherEvents
}

export interface DispatcherEvents {
  claimed?(rows: number): void
  completed?(completion: Completion, ms: number): void
  leasesLost?(rows: number): void
  rescued?(result: RescueResult): void
  failed?(row: { id: string; attempt: number; error: unknown }): void
  /** A claim, heartbeat, completion or rescue that failed (rows stay leased and are rescued after expiry). */
  error?(step: 'claim' | 'heartbeat' | 'complete' | 'rescue', error: unknown): void
}

export class Dispatcher {
  readonly #o: DispatcherOptions
  readonly #batches = new Set<Promise<void>>()
  #claiming = false
  #again = false
  /** Due rows may wait in the table (a NOTIFY, the poll or a rescue said so, or the last claim came back full). */
  #tableDue = true
  /** The last batch came from a claim: the next one comes from the hand-off if it holds rows, so neither source starves the other. */
  #lastClaimed = false
  /** No more claims; the hand-off is still drained. */
  #stopping = false
  #stopped = false
  #poll: NodeJS.Timeout | undefined
  #rescue: NodeJS.Timeout | undefined
  #rescuing: Promise<void> | undefined

  constructor(options: DispatcherOptions) {
    if (options.heartbeatMs >= options.leaseMs) throw new TypeError(`heartbeatMs (${options.heartbeatMs}) must be shorter than leaseMs (${options.leaseMs})`)
    this.#o = options
  }

  start(): void {
    this.#poll = setInterval(() => this.wake(), this.#o.pollIntervalMs)
    this.#rescue = setInterval(() => void this.rescueNow(), this.#o.rescueIntervalMs)
    this.wake()
  }

  /** Batches being processed now. */
  get busy(): number {
    return this.#batches.size
  }

  /** Claims while there are free worker slots and due rows. Safe to call at any rate. */
  wake(): void {
    this.#tableDue = true
    this.#run()
  }

  /** Rows arrived in the hand-off: start them if a worker slot is free. */
  handedOff(): void {
    this.#run()
  }

  #run(): void {
    if (this.#stopped) return
    if (this.#claiming) {
      this.#again = true
      return
    }
    void this.#fill()
  }

  async rescueNow(): Promise<void> {
    if (this.#rescuing || this.#stopped) return this.#rescuing
    this.#rescuing = (async () => {
      try {
        const result = await this.#o.leases.rescue()
        if (result.pending + result.dead > 0) {
          this.#o.events?.rescued?.(result)
          this.wake()
        }
      } catch (error) {
        this.#o.events?.error?.('rescue', error)
      } finally {
        this.#rescuing = undefined
      }
    })()
    return this.#rescuing
  }

  /** Stops claiming, processes what the hand-off holds (and what writes in flight add to it), and waits for the batches in hand to complete. */
  async stop(): Promise<void> {
    this.#stopping = true
    clearInterval(this.#poll)
    clearInterval(this.#rescue)
    const handoff = this.#o.handoff
    // Closed once the writes in flight have filled or cancelled their reservations.
    let closed = handoff === undefined
    void handoff?.close().then(() => (closed = true))
    const busy = () => this.#batches.size > 0 || this.#claiming || !closed || (handoff?.queued ?? 0) > 0
    while (busy()) {
      this.#run()
      await Promise.race([...this.#batches, new Promise((r) => setTimeout(r, 10))])
    }
    this.#stopped = true
    await this.#rescuing
  }

  async #fill(): Promise<void> {
    this.#claiming = true
    try {
      do {
        this.#again = false
        while (!this.#stopped && this.#batches.size < this.#o.workers) {
          const rows = await this.#next()
          if (rows.length === 0) break
          const batch = this.#work(rows).finally(() => {
            this.#batches.delete(batch)
            this.#run()
          })
          this.#batches.add(batch)
        }
      } while (this.#again && !this.#stopped && this.#batches.size < this.#o.workers)
    } finally {
      this.#claiming = false
    }
  }

  /** The next batch: the hand-off's rows first, unless the table is due; a claim when that finds none. */
  async #next(): Promise<ClaimedRow[]> {
    const { handoff, claimBatch } = this.#o
    const fromTableFirst = this.#tableDue && !this.#stopping && !this.#lastClaimed
    if (handoff && !fromTableFirst) {
      const rows = handoff.take(claimBatch)
      this.#lastClaimed = false
      if (rows.length > 0) return rows
    }
    if (this.#stopping) return []
    if (!this.#tableDue) return []
    const rows = await this.#claim()
    // A short claim means nothing more is due now.
    this.#tableDue = rows.length === claimBatch
    if (rows.length > 0) {
      this.#lastClaimed = true
      this.#o.events?.claimed?.(rows.length)
      return rows
    }
    return handoff ? handoff.take(claimBatch) : []
  }

  async #claim(): Promise<ClaimedRow[]> {
    const { leases, owner, claimBatch, leaseMs } = this.#o
    const claim = () => leases.claim(owner, claimBatch, leaseMs)
    try {
      return await (this.#o.aroundClaim ? this.#o.aroundClaim(claim) : claim())
    } catch (error) {
      this.#o.events?.error?.('claim', error)
      return []
    }
  }

  async #work(rows: ClaimedRow[]): Promise<void> {
    const o = this.#o
    const held = new Map(rows.map((row) => [row.id, row.attempts]))
    let beating: Promise<void> | undefined
    const heartbeat = setInterval(() => {
      if (beating) return
      beating = (async () => {
        try {
          const kept = await o.leases.heartbeat(
            o.owner,
            [...held].map(([id, attempt]) => ({ id, attempt })),
            o.leaseMs,
          )
          const lost = [...held.keys()].filter((id) => !kept.has(id))
          for (const id of lost) held.delete(id)
          if (lost.length > 0) o.events?.leasesLost?.(lost.length)
        } catch (error) {
          o.events?.error?.('heartbeat', error)
        } finally {
          beating = undefined
        }
      })()
    }, o.heartbeatMs)
    const started = Date.now()
    const done: Done[] = []
    const failed: Failed[] = []
    try {
      for (const row of rows) {
        const event = rawEventOf(row)
        try {
          const process = () => o.processors.run(event)
          const processed = await (o.aroundProcess ? o.aroundProcess(row, process) : process())
          done.push({ id: row.id, attempt: row.attempts, time: event.time, processed })
        } catch (error) {
          o.events?.failed?.({ id: row.id, attempt: row.attempts, error })
          failed.push({ id: row.id, attempt: row.attempts, error: error instanceof Error ? error.message : String(error), delayMs: retryDelayMs(row.attempts, o.backoff) })
        }
      }
    } finally {
      // No heartbeat may run beside the completion: both lock the batch's rows.
      clearInterval(heartbeat)
      await beating
    }
    try {
      const completion = await o.leases.complete(
        done.filter((row) => held.get(row.id) === row.attempt),
        failed.filter((row) => held.get(row.id) === row.attempt),
      )
      o.events?.completed?.(completion, Date.now() - started)
    } catch (error) {
      // The rows stay leased; the rescuer returns them once the lease expires.
      o.events?.error?.('complete', error)
    }
  }
}

function rawEventOf(row: ClaimedRow): RawEvent {
  return {
    id: row.id,
    attempt: row.attempts,
    time: new Date(row.time),
    userId: row.user_id,
    headers: row.data?.headers ?? {},
    body: row.data?.body ?? {},
  }
}
