// One partition: its store, the fetches waiting for new records, and its retention.
import { PubsubError } from './errors.ts'
import type { StoredRecord } from './record.ts'
import type { PartitionStore, ProducerBatch, Retention } from './storage/storage.ts'

export class PartitionLog {
  readonly #waiters = new Set<() => void>()

  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly store: PartitionStore,
  ) {}

  get startOffset(): number {
    return this.store.startOffset
  }
  get endOffset(): number {
    return this.store.endOffset
  }

  append(records: readonly StoredRecord[], batch?: ProducerBatch): void {
    const written = this.store.append(records, batch)
    // Fetches and push dispatchers wake once the records can be read.
    const wake = () => {
      for (const waiter of [...this.#waiters]) waiter()
    }
    if (written) written.then(wake, wake)
    else wake()
  }

  /** Fetches and push dispatchers waiting for the next append. */
  get waiting(): number {
    return this.#waiters.size
  }

  /** Throws OFFSET_OUT_OF_RANGE for an offset outside [startOffset, endOffset]. */
  check(offset: number): void {
    if (!Number.isInteger(offset) || offset < this.startOffset || offset > this.endOffset) {
      throw new PubsubError(
        'OFFSET_OUT_OF_RANGE',
        `offset ${offset} of ${this.topic}/${this.partition} is outside the retained range ${this.startOffset}..${this.endOffset} (apply the reset policy: earliest or latest)`,
      )
    }
  }

  read(offset: number, maxMessages: number, maxBytes: number): StoredRecord[] {
    this.check(offset)
    return this.store.read(offset, maxMessages, maxBytes)
  }

  /** Resolves when a record at `offset` or later exists, the wait ends, or the signal aborts. */
  waitFor(offset: number, maxWaitMs: number, signal?: AbortSignal): Promise<void> {
    if (offset < this.endOffset || maxWaitMs <= 0 || signal?.aborted) return Promise.resolve()
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer)
        this.#waiters.delete(done)
        signal?.removeEventListener('abort', done)
        resolve()
      }
      const timer = setTimeout(done, maxWaitMs)
      this.#waiters.add(done)
      signal?.addEventListener('abort', done, { once: true })
    })
  }

  /** Watches appends (push dispatchers); returns the unsubscribe. */
  onAppend(wake: () => void): () => void {
    this.#waiters.add(wake)
    return () => this.#waiters.delete(wake)
  }

  /** Drops what the retention no longer keeps; returns the bytes freed. */
  enforce(retention: Retention, now: number): number {
    const store = this.store
    let cut = store.startOffset
    if (retention.maxRecords > 0 && store.endOffset - cut > retention.maxRecords) cut = store.endOffset - retention.maxRecords
    let freed = cut > store.startOffset ? store.truncateBefore(cut) : 0
    if (retention.maxBytes > 0) {
      while (store.bytes > retention.maxBytes && store.startOffset < store.endOffset) freed += store.truncateBefore(store.startOffset + 1)
    }
    if (retention.maxAgeMs > 0) {
      const cutoff = store.offsetForTimestamp(now - retention.maxAgeMs)
      if (cutoff > store.startOffset) freed += store.truncateBefore(cutoff)
    }
    return freed
  }
}
