// Rows this instance ingested, handed straight to its own workers. A batch is inserted already
// leased to them (see raw-writer.ts) only after a reservation here, so the rows in hand stay
// within `capacity`; past it, ingest inserts rows as pending and the dispatchers claim them from
// the table as they would any other's. A row waits here at most until too little of its lease is
// left for a worker to heartbeat it in time; then it is dropped, its lease expires and the rescuer
// returns it to pending. Nothing here is the only record of a row: the table always is.
import type { ClaimedRow } from './leases.ts'
import type { LeaseAtInsert } from './raw-writer.ts'

export interface HandoffOptions {
  owner: string
  leaseMs: number
  /** Rows waiting here and reserved by writes in flight, at most. */
  capacity: number
  /** A row still here this long before its lease expires is dropped (the workers' heartbeat interval). */
  marginMs: number
  /** Called when rows arrive (the dispatcher wakes). */
  onRows(): void
  /** Called with the number of rows dropped because their lease ran short while they waited. */
  onExpired?(rows: number): void
}

export interface Reservation {
  readonly lease: LeaseAtInsert
  /** The write committed: these rows (leased to this instance, attempt 1) are in hand. */
  fill(rows: ClaimedRow[]): void
  /** The write failed (or its rows were not inserted leased): the room goes back. */
  cancel(): void
}

interface Waiting {
  rows: ClaimedRow[]
  /** Past this (epoch ms) the rows are too close to their lease's expiry to start. */
  usableUntil: number
}

export class Handoff {
  readonly #o: HandoffOptions
  readonly #waiting: Waiting[] = []
  #queued = 0
  #reserved = 0
  #closed = false
  #settled: Array<() => void> = []

  constructor(options: HandoffOptions) {
    if (!(options.capacity >= 1)) throw new TypeError(`Handoff: capacity must be at least 1, got ${options.capacity}`)
    this.#o = options
  }

  /** Rows waiting for a worker. */
  get queued(): number {
    return this.#queued
  }

  /** Rows of writes in flight that will arrive here if they commit. */
  get reserved(): number {
    return this.#reserved
  }

  /** Room for `rows` more, or undefined (full, or closed): the caller inserts them as pending instead. */
  reserve(rows: number): Reservation | undefined {
    if (this.#closed || this.#queued + this.#reserved + rows > this.#o.capacity) return undefined
    this.#reserved += rows
    // The lease runs from the insert's now() in PostgreSQL; from before the write here, so the local deadline is never later.
    const usableUntil = Date.now() + this.#o.leaseMs - this.#o.marginMs
    let open = true
    const release = () => {
      if (!open) return false
      open = false
      this.#reserved -= rows
      return true
    }
    return {
      lease: { owner: this.#o.owner, leaseMs: this.#o.leaseMs },
      fill: (claimed) => {
        if (!release()) return
        if (claimed.length > 0) {
          this.#waiting.push({ rows: claimed, usableUntil })
          this.#queued += claimed.length
          this.#o.onRows()
        }
        this.#notifySettled()
      },
      cancel: () => {
        if (release()) this.#notifySettled()
      },
    }
  }

  /** Up to `max` rows in arrival order, leaving out those whose lease has run too short. */
  take(max: number): ClaimedRow[] {
    const now = Date.now()
    const taken: ClaimedRow[] = []
    let expired = 0
    while (taken.length < max && this.#waiting.length > 0) {
      const first = this.#waiting[0]!
      if (first.usableUntil <= now) {
        expired += first.rows.length
        this.#queued -= first.rows.length
        this.#waiting.shift()
        continue
      }
      const part = first.rows.length <= max - taken.length ? first.rows : first.rows.slice(0, max - taken.length)
      if (part === first.rows) this.#waiting.shift()
      else first.rows = first.rows.slice(part.length)
      this.#queued -= part.length
      for (const row of part) taken.push(row)
    }
    if (expired > 0) this.#o.onExpired?.(expired)
    return taken
  }

  /** No more reservations; resolves once every write in flight has filled or cancelled its own. */
  async close(): Promise<void> {
    this.#closed = true
    while (this.#reserved > 0) await new Promise<void>((resolve) => this.#settled.push(resolve))
  }

  #notifySettled(): void {
    for (const resolve of this.#settled.splice(0)) resolve()
  }
}
