// Visits counted in memory and written in batches, so a click never waits for (or costs) an UPDATE.
//
// A visit is `pending` until a flush takes it, and again if that flush fails.
// Each batch has a number. A batch whose write failed may still have been applied (PostgreSQL
// committed, the answer was lost with the connection), so it is kept apart, `unsettled`, and
// written again under the same number before anything newer: the sink skips a number it has
// already applied, so such a batch counts once. `epoch` moves whenever a flush starts, so a
// reader of the stored count can tell whether the number it read may include visits held here.

export interface VisitSink {
  /**
   * Adds `counts` as batch `batch` of this counter. Batches arrive in increasing order, a failed
   * one again with the same number; a number already applied must change nothing.
   */
  addVisits(counts: ReadonlyMap<string, number>, batch: number): Promise<void>
}

interface Batch {
  readonly number: number
  readonly counts: Map<string, number>
}

export class VisitCounter {
  #pending = new Map<string, number>()
  #unsettled: Batch | undefined
  #flushing: Promise<void> | undefined
  #nextBatch = 1
  #epoch = 0
  /** Told of each batch handed to the sink (and of its return on failure), to keep cached counts in step. */
  onBatch: ((counts: ReadonlyMap<string, number>, sign: 1 | -1) => void) | undefined

  /** Told how many visits each successful flush wrote. */
  onFlushed: ((visits: number) => void) | undefined

  readonly #sink: VisitSink

  constructor(sink: VisitSink) {
    this.#sink = sink
  }

  record(slug: string): void {
    this.#pending.set(slug, (this.#pending.get(slug) ?? 0) + 1)
  }

  /** Visits of `slug` held in memory and not being written now (new ones and a failed batch's). */
  pending(slug: string): number {
    return (this.#pending.get(slug) ?? 0) + (this.#unsettled?.counts.get(slug) ?? 0)
  }

  /**
   * True while a failed batch waits to be written again: the stored count may or may not hold
   * it, so stored + pending is exact only after the next flush.
   */
  get unsettled(): boolean {
    return this.#unsettled !== undefined
  }

  forget(slug: string): void {
    // A failed batch is written again exactly as it was (its chunks must not shift); for a
    // deleted row its UPDATE changes nothing.
    this.#pending.delete(slug)
  }

  get epoch(): number {
    return this.#epoch
  }

  /** Resolves when no flush is running. */
  async idle(): Promise<void> {
    while (this.#flushing) await this.#flushing.catch(() => {})
  }

  /**
   * Writes a failed batch again, then everything pending as one new batch; concurrent calls
   * wait for the running one and then flush again.
   */
  async flush(): Promise<void> {
    await this.idle()
    // Another caller may have started a flush between idle() resolving and this line.
    if (this.#flushing) return this.flush()
    if (this.#unsettled) await this.#write(this.#unsettled)
    if (this.#flushing) return this.flush()
    if (this.#pending.size === 0) return
    const batch = { number: this.#nextBatch++, counts: this.#pending }
    this.#pending = new Map()
    await this.#write(batch)
  }

  async #write(batch: Batch): Promise<void> {
    this.#unsettled = undefined
    this.#epoch++
    this.onBatch?.(batch.counts, 1)
    this.#flushing = this.#sink.addVisits(batch.counts, batch.number).then(
      () => {
        let total = 0
        for (const n of batch.counts.values()) total += n
        this.onFlushed?.(total)
      },
      (error: unknown) => {
        this.#unsettled = batch
        this.onBatch?.(batch.counts, -1)
        throw error
      },
    )
    try {
      await this.#flushing
    } finally {
      this.#flushing = undefined
    }
  }
}
