// The ingest service: one request in, one row committed (with the others of its batch) before the answer.
import { IngestUnavailableError } from './errors.ts'
import { GroupCommit, type BatchReport, type GroupCommitFailure } from './group-commit.ts'
import { checkBody, HeaderAllowList, rawRow, userIdOf, type HeaderLookup, type RawRow } from './ingest-request.ts'
import type { Reservation } from './handoff.ts'
import type { ClaimedRow } from './leases.ts'
import { writeLeasedRows, writePendingRows } from './raw-writer.ts'
import type { SqlDatabase } from './sql.ts'
import { currentTraceparent } from './trace-context.ts'

export interface IngestOptions {
  db: SqlDatabase
  headerAllowList: readonly string[]
  batchMaxRows: number
  batchMaxDelayMs: number
  batchConcurrency: number
  maxWaiting: number
  commitTimeoutMs: number
  isOutage(error: unknown): boolean
  /** Seconds a client should wait after an outage (the availability probe's interval). */
  outageRetryAfterSeconds: number
  /** False while the database is known to be down: requests are refused at once instead of queued. */
  available(): boolean
  /** This instance's workers: a batch they have room for is inserted leased to them and handed over after commit. */
  handoff?: { reserve(rows: number): Reservation | undefined }
  /** Wraps each batch write (a span, say). */
  around?(rows: readonly RawRow[], write: () => Promise<void>): Promise<void>
  onBatch?(report: BatchReport): void
}

export class Ingest {
  readonly #allow: HeaderAllowList
  readonly #commit: GroupCommit<RawRow>
  readonly #options: IngestOptions

  constructor(options: IngestOptions) {
    this.#options = options
    this.#allow = new HeaderAllowList(options.headerAllowList)
    const write = (rows: RawRow[]) => writeBatch(options, rows)
    this.#commit = new GroupCommit<RawRow>({
      maxRows: options.batchMaxRows,
      maxDelayMs: options.batchMaxDelayMs,
      maxConcurrentBatches: options.batchConcurrency,
      maxWaiting: options.maxWaiting,
      commitTimeoutMs: options.commitTimeoutMs,
      write: options.around ? (rows) => options.around!(rows, () => write(rows)) : write,
      isOutage: options.isOutage,
      failure: (reason, cause) => this.#failure(reason, cause),
      ...(options.onBatch ? { onBatch: options.onBatch } : {}),
    })
  }

  /** Rows waiting for their batch to commit. */
  get waiting(): number {
    return this.#commit.waiting
  }

  /**
   * Checks the request's user header first (a 400 costs no body read), then `readBody()`, and
   * resolves once the row is committed. Throws IngestError (400) or IngestUnavailableError (503/429).
   */
  async accept(header: HeaderLookup, readBody: () => Promise<unknown>): Promise<void> {
    const userId = userIdOf(header)
    const body = checkBody(await readBody())
    if (!this.#options.available()) throw this.#failure('outage')
    const row = rawRow(userId, this.#allow.pick(header), body, currentTraceparent(header('traceparent')))
    await this.#commit.add(row)
  }

  /** Commits what is queued; afterwards requests are refused. */
  close(): Promise<void> {
    return this.#commit.close()
  }

  #failure(reason: GroupCommitFailure, cause?: unknown): Error {
    const options = { cause }
    switch (reason) {
      case 'overloaded':
        return new IngestUnavailableError(`too many requests waiting for a commit (${this.#options.maxWaiting}, ANALYTICS_MAX_WAITING); retry shortly`, 503, 1, options)
      case 'timeout':
        return new IngestUnavailableError(`the row was not confirmed committed within ${this.#options.commitTimeoutMs} ms (ANALYTICS_COMMIT_TIMEOUT_MS); retry`, 503, 1, options)
      case 'outage':
        return new IngestUnavailableError('the database is unavailable; the row was not stored', 503, this.#options.outageRetryAfterSeconds, options)
      case 'closed':
        return new IngestUnavailableError('analytics is stopping; retry on another instance', 503, 1, options)
      case 'error':
        return Object.assign(new Error('the row could not be stored', options), { status: 500 })
    }
  }
}

/** One batch: leased to this instance's workers when they have room for it, else pending for any dispatcher. */
async function writeBatch(options: IngestOptions, rows: RawRow[]): Promise<void> {
  const reservation = options.handoff?.reserve(rows.length)
  if (!reservation) return writePendingRows(options.db, rows)
  let ids: string[]
  try {
    ids = await writeLeasedRows(options.db, rows, reservation.lease)
  } catch (error) {
    reservation.cancel()
    throw error
  }
  // Committed either way: rows whose ids did not come back are left to expire and be rescued, never written twice.
  if (ids.length !== rows.length) return reservation.cancel()
  reservation.fill(
    rows.map((row, i): ClaimedRow => ({
      id: ids[i]!,
      attempts: 1,
      time: row.time,
      user_id: row.userId,
      data: { headers: row.headers, body: row.body },
      traceparent: row.traceparent,
    })),
  )
}
