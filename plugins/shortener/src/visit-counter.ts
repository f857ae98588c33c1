// Visits counted in memory and written in batches, so a click never waits for (or costs) an UPDATE.
//
// A visit is `pending` until a flush takes it; while that flush's UPDATE runs it is `inFlight`;
// a failed flush puts it back. `epoch` moves whenever a flush starts, so a reader of the stored
// count can tell whether the number it read may already include visits still held here.

export interface VisitSink {
  addVisits(counts: ReadonlyMap<string, number>): Promise<void>
}

export class VisitCounter {
  #pending = new Map<string, number>()
  #inFlight: Map<string, number> | undefined
  #flushing: Promise<void> | undefined
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

  /** Visits of `slug` not yet handed to the database. */
  pending(slug: string): number {
    return this.#pending.get(slug) ?? 0
  }

  /** Visits of `slug` in memory, waiting or being written. */
  unstored(slug: string): number {
    return this.pending(slug) + (this.#inFlight?.get(slug) ?? 0)
  }

  forget(slug: string): void {
    this.#pending.delete(slug)
  }

  get epoch(): number {
    return this.#epoch
  }

  get busy(): boolean {
    return this.#flushing !== undefined
  }

  /** Resolves when no flush is running. */
  async idle(): Promise<void> {
    while (this.#flushing) await this.#flushing.catch(() => {})
  }

  /** Writes everything pending in one batch; concurrent calls wait for the running one and then flush again. */
  async flush(): Promise<void> {
    await this.idle()
    // Another caller may have started a flush between idle() resolving and this line.
    if (this.#flushing) return this.flush()
    if (this.#pending.size === 0) return
    const batch = this.#pending
    this.#pending = new Map()
    this.#inFlight = batch
    this.#epoch++
    this.onBatch?.(batch, 1)
    const write = this.#sink.addVisits(batch)
    this.#flushing = write.then(
      () => {
        let total = 0
        for (const n of batch.values()) total += n
        this.onFlushed?.(total)
      },
      (error: unknown) => {
        // Nothing was written (the UPDATE is one statement): the visits wait for the next flush.
        for (const [slug, n] of batch) this.#pending.set(slug, (this.#pending.get(slug) ?? 0) + n)
        this.onBatch?.(batch, -1)
        throw error
      },
    )
    try {
      await this.#flushing
    } finally {
      this.#inFlight = undefined
      this.#flushing = undefined
    }
  }
}
