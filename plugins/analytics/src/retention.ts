// Retention of processed raw rows: a `done` row has its analytics row (the same data, parsed),
// so once it is older than the retention it is deleted, in bounded batches, on an interval.
// Pending, leased and dead rows are never deleted here: they are work, or an admin's to retry.
import type { SqlDatabase } from './sql.ts'

export interface RetentionOptions {
  /** Age (by `time`, the ingest clock) past which done rows go; 0 keeps them forever. */
  retainMs: number
  intervalMs: number
  /** Rows deleted per statement: each statement is its own short transaction. */
  batchRows: number
  /** Told after each round that deleted rows, or failed. */
  onRound?(result: { deleted: number; ms: number; error?: unknown }): void
}

/** Deletes one batch of done rows older than `retainMs`; answers how many went. */
export async function deleteExpiredDone(db: SqlDatabase, retainMs: number, limit: number): Promise<number> {
  // The BRIN index on `time` finds the old block ranges; ctid keeps the delete to the rows selected.
  const { rowCount } = await db.query(
    `DELETE FROM raw_analytics WHERE ctid = ANY (ARRAY(
       SELECT ctid FROM raw_analytics
        WHERE time < now() - make_interval(secs => $1::float8 / 1000) AND state = 'done'
        LIMIT $2))`,
    [retainMs, limit],
  )
  return rowCount
}

export class RawRetention {
  readonly #db: SqlDatabase
  readonly #o: RetentionOptions
  #timer: NodeJS.Timeout | undefined
  #running: Promise<number> | undefined
  #stopping = false

  constructor(db: SqlDatabase, options: RetentionOptions) {
    this.#db = db
    this.#o = options
  }

  start(): void {
    if (this.#o.retainMs === 0 || this.#timer) return
    this.#timer = setInterval(() => void this.runOnce(), this.#o.intervalMs)
    this.#timer.unref()
  }

  /** Deletes batch after batch until fewer than a batch are left (or one fails); answers the rows deleted. */
  runOnce(): Promise<number> {
    if (this.#o.retainMs === 0 || this.#stopping) return Promise.resolve(0)
    this.#running ??= this.#round().finally(() => (this.#running = undefined))
    return this.#running
  }

  async stop(): Promise<void> {
    this.#stopping = true
    clearInterval(this.#timer)
    this.#timer = undefined
    await this.#running
  }

  async #round(): Promise<number> {
    const started = Date.now()
    let deleted = 0
    try {
      for (;;) {
        const n = await deleteExpiredDone(this.#db, this.#o.retainMs, this.#o.batchRows)
        deleted += n
        if (n < this.#o.batchRows || this.#stopping) break
      }
      if (deleted > 0) this.#o.onRound?.({ deleted, ms: Date.now() - started })
    } catch (error) {
      this.#o.onRound?.({ deleted, ms: Date.now() - started, error })
    }
    return deleted
  }
}
