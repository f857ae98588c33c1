// Group commit: rows of concurrent requests go to the database together, one write per batch,
// and each request is answered when its batch has committed (or not at all with a 202).
//
// A batch is written when it holds `maxRows`, or `maxDelayMs` after its first row arrived,
// with at most `maxConcurrentBatches` writes in flight. Every row has a deadline
// (`commitTimeoutMs` after it arrived): one still queued then is dropped and never written; one
// whose batch has not committed by then is answered as failed, though the commit may still land
// (a failed answer never claims the row was not stored, only that it was not confirmed). The
// queue holds at most `maxWaiting` rows, queued and in flight together; past that `add` fails at once.

export interface GroupCommitOptions<T> {
  maxRows: number
  maxDelayMs: number
  maxConcurrentBatches: number
  maxWaiting: number
  commitTimeoutMs: number
  /** Writes the rows in one transaction: all or nothing. */
  write(rows: T[]): Promise<void>
  /** True when `error` means the database cannot be reached: the whole batch fails with it. Otherwise a batch of several rows is written again row by row, so one bad row fails alone. */
  isOutage(error: unknown): boolean
  /** Why `add` failed, as the caller wants to throw it. */
  failure(reason: GroupCommitFailure, cause?: unknown): Error
  /** Told after each write: its rows, how long it took, and its error if it failed. */
  onBatch?(report: BatchReport): void
}

export type GroupCommitFailure = 'overloaded' | 'timeout' | 'outage' | 'error' | 'closed'

export interface BatchReport {
  rows: number
  ms: number
  error?: unknown
  /** Rows whose answer had already been given as a timeout when the write ended. */
  late: number
}

interface Entry<T> {
  row: T
  deadline: number
  settled: boolean
  /** Committed after its answer had been given as a timeout. */
  late: boolean
  resolve(): void
  reject(error: Error): void
}

export class GroupCommit<T> {
  readonly #options: GroupCommitOptions<T>
  #queue: Array<Entry<T>> = []
  #inFlight = 0
  #inFlightRows = 0
  #timer: NodeJS.Timeout | undefined
  #sweeper: NodeJS.Timeout | undefined
  #closed = false
  #idle: Array<() => void> = []

  constructor(options: GroupCommitOptions<T>) {
    for (const key of ['maxRows', 'maxConcurrentBatches', 'maxWaiting', 'commitTimeoutMs'] as const) {
      if (!Number.isSafeInteger(options[key]) || options[key] < 1) throw new TypeError(`GroupCommit: ${key} must be a positive integer, got ${options[key]}`)
    }
    if (!(options.maxDelayMs >= 0)) throw new TypeError(`GroupCommit: maxDelayMs must be >= 0, got ${options.maxDelayMs}`)
    this.#options = options
  }

  /** Rows queued or being written. */
  get waiting(): number {
    return this.#queue.length + this.#inFlightRows
  }

  /** Resolves once `row` is committed; rejects with `failure(...)` otherwise. */
  add(row: T): Promise<void> {
    const options = this.#options
    if (this.#closed) return Promise.reject(options.failure('closed'))
    if (this.waiting >= options.maxWaiting) return Promise.reject(options.failure('overloaded'))
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ row, deadline: Date.now() + options.commitTimeoutMs, settled: false, late: false, resolve, reject })
      if (this.#queue.length >= options.maxRows) this.#pump()
      else if (this.#queue.length === 1) this.#arm()
    })
  }

  /** Writes what is queued and resolves when no write is in flight; later `add`s fail. */
  async close(): Promise<void> {
    this.#closed = true
    clearTimeout(this.#timer)
    this.#timer = undefined
    while (this.#queue.length > 0 || this.#inFlight > 0) {
      this.#pump(true)
      if (this.#inFlight === 0 && this.#queue.length === 0) break
      await new Promise<void>((resolve) => this.#idle.push(resolve))
    }
    clearInterval(this.#sweeper)
  }

  #arm(): void {
    if (this.#timer) return
    this.#timer = setTimeout(() => {
      this.#timer = undefined
      this.#pump(true)
    }, this.#options.maxDelayMs)
  }

  /** Starts writes while there is room; `due` writes a partial batch too (its delay has passed). */
  #pump(due = false): void {
    const { maxRows, maxConcurrentBatches } = this.#options
    while (this.#queue.length > 0 && this.#inFlight < maxConcurrentBatches && (due || this.#queue.length >= maxRows)) {
      const batch = this.#queue.splice(0, maxRows).filter((entry) => !entry.settled)
      if (batch.length > 0) void this.#write(batch)
      due = this.#queue.length > 0 && Date.now() - (this.#queue[0]!.deadline - this.#options.commitTimeoutMs) >= this.#options.maxDelayMs
    }
    if (this.#queue.length > 0) {
      if (this.#inFlight >= maxConcurrentBatches) this.#sweep()
      else this.#arm()
    }
  }

  /** While every write slot is busy, rows queued past their deadline are dropped (never written) and answered. */
  #sweep(): void {
    if (this.#sweeper) return
    const every = Math.max(5, Math.floor(this.#options.commitTimeoutMs / 10))
    this.#sweeper = setInterval(() => {
      const now = Date.now()
      const expired = this.#queue.filter((entry) => entry.deadline <= now)
      if (expired.length > 0) {
        this.#queue = this.#queue.filter((entry) => entry.deadline > now)
        for (const entry of expired) this.#settle(entry, this.#options.failure('timeout'))
      }
      if (this.#queue.length === 0) {
        clearInterval(this.#sweeper)
        this.#sweeper = undefined
      }
    }, every)
  }

  async #write(batch: Array<Entry<T>>): Promise<void> {
    const options = this.#options
    this.#inFlight++
    this.#inFlightRows += batch.length
    const started = Date.now()
    const first = batch.reduce((min, entry) => Math.min(min, entry.deadline), Infinity)
    const timeout = setTimeout(
      () => {
        for (const entry of batch) this.#settle(entry, options.failure('timeout'))
      },
      Math.max(0, first - started),
    )
    let error: unknown
    try {
      await options.write(batch.map((entry) => entry.row))
      for (const entry of batch) this.#settle(entry)
    } catch (caught) {
      error = caught
      if (options.isOutage(caught) || batch.length === 1) {
        const failure = options.failure(options.isOutage(caught) ? 'outage' : 'error', caught)
        for (const entry of batch) this.#settle(entry, failure)
      } else {
        // Not an outage: a row the database refused. Each row alone, so only that one fails.
        await Promise.all(
          batch.map((entry) =>
            options.write([entry.row]).then(
              () => this.#settle(entry),
              (one: unknown) => this.#settle(entry, options.failure(options.isOutage(one) ? 'outage' : 'error', one)),
            ),
          ),
        )
      }
    } finally {
      clearTimeout(timeout)
      const late = batch.filter((entry) => entry.late).length
      this.#inFlight--
      this.#inFlightRows -= batch.length
      options.onBatch?.({ rows: batch.length, ms: Date.now() - started, late, ...(error === undefined ? {} : { error }) })
      this.#pump(this.#closed || this.#oldestDue())
      if (this.#inFlight === 0 && this.#queue.length === 0) for (const resolve of this.#idle.splice(0)) resolve()
      else if (this.#closed) for (const resolve of this.#idle.splice(0)) resolve()
    }
  }

  #oldestDue(): boolean {
    const oldest = this.#queue[0]
    return oldest !== undefined && Date.now() - (oldest.deadline - this.#options.commitTimeoutMs) >= this.#options.maxDelayMs
  }

  #settle(entry: Entry<T>, error?: Error): void {
    if (entry.settled) {
      if (error === undefined) entry.late = true
      return
    }
    entry.settled = true
    if (error) entry.reject(error)
    else entry.resolve()
  }
}
