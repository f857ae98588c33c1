// Group commit: orders handed in while a write is running are written together by the next one,
// in one transaction, so many messages in flight cost one round trip and one commit. Each caller
// gets its own order's outcome after that commit, and only then acknowledges its message.
import type { PreparedOrder, SaveOutcome } from './order-store.ts'

export interface BatchStore {
  save(order: PreparedOrder): Promise<SaveOutcome>
  saveMany(orders: readonly PreparedOrder[]): Promise<SaveOutcome[]>
}

interface Waiting {
  order: PreparedOrder
  resolve: (outcome: SaveOutcome) => void
  reject: (error: unknown) => void
}

export class WriteBatcher {
  readonly #store: BatchStore
  readonly #maxBatch: number
  readonly #maxWrites: number
  readonly #isUnavailable: (error: unknown) => boolean
  #waiting: Waiting[] = []
  #writes = 0
  /** Batches written, for the metrics. */
  batches = 0

  constructor(store: BatchStore, options: { maxBatch: number; maxConcurrentWrites: number; isUnavailable: (error: unknown) => boolean }) {
    this.#store = store
    this.#maxBatch = options.maxBatch
    this.#maxWrites = options.maxConcurrentWrites
    this.#isUnavailable = options.isUnavailable
  }

  save(order: PreparedOrder): Promise<SaveOutcome> {
    return new Promise((resolve, reject) => {
      this.#waiting.push({ order, resolve, reject })
      this.#next()
    })
  }

  #next(): void {
    while (this.#writes < this.#maxWrites && this.#waiting.length > 0) {
      const batch = this.#waiting.splice(0, this.#maxBatch)
      this.#writes++
      this.batches++
      void this.#write(batch).finally(() => {
        this.#writes--
        this.#next()
      })
    }
  }

  async #write(batch: Waiting[]): Promise<void> {
    try {
      const outcomes = await this.#store.saveMany(batch.map((w) => w.order))
      batch.forEach((w, i) => w.resolve(outcomes[i]!))
    } catch (error) {
      // An outage fails them all (each caller waits and tries again); any other error is written
      // one by one, so one order the database refuses fails alone and the rest are stored.
      if (batch.length === 1 || this.#isUnavailable(error)) return batch.forEach((w) => w.reject(error))
      await Promise.all(batch.map((w) => this.#store.save(w.order).then(w.resolve, w.reject)))
    }
  }
}
