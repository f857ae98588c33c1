// The dispatcher: wakes on NOTIFY (and on a polling interval, the fallback), leases batches of
// due rows and hands each batch to a worker slot; a worker processes its rows, heartbeats the
// leases while it works, and completes the batch in one fenced transaction. The rescuer, on its
// own interval, returns leases that expired (a worker killed or cut off) to pending.
import { retryDelayMs, type BackoffOptions } from './backoff.ts'
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

  /** Stops claiming and waits for the batches in hand to complete. */
  async stop(): Promise<void> {
    this.#stopped = true
    clearInterval(this.#poll)
    clearInterval(this.#rescue)
    while (this.#batches.size > 0 || this.#claiming) await Promise.race([...this.#batches, new Promise((r) => setTimeout(r, 10))])
    await this.#rescuing
  }

  async #fill(): Promise<void> {
    this.#claiming = true
    try {
      do {
        this.#again = false
        while (!this.#stopped && this.#batches.size < this.#o.workers) {
          const rows = await this.#claim()
          if (rows.length === 0) break
          this.#o.events?.claimed?.(rows.length)
          const batch = this.#work(rows).finally(() => {
            this.#batches.delete(batch)
            this.wake()
          })
          this.#batches.add(batch)
          // A short batch means nothing more is due now.
          if (rows.length < this.#o.claimBatch) break
        }
      } while (this.#again && !this.#stopped && this.#batches.size < this.#o.workers)
    } finally {
      this.#claiming = false
    }
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
          done.push({ id: row.id, attempt: row.attempts, processed })
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
