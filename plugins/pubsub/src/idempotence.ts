// The idempotent producer: each producer id numbers its batches per partition. A batch whose
// sequence was already appended is answered with its first offsets again (a retry after a lost
// acknowledgement appends once); a sequence beyond the next expected one is a gap, refused.
// With file storage the state comes back after a restart: ids continue above the stored next
// id, and each partition's retained batches (kept in the segment frames) are replayed.
import { PubsubError } from './errors.ts'
import type { ProducerBatch } from './storage/storage.ts'

/**
 * Recent batches remembered per producer and partition. Kafka keeps five, as many as its
 * producer has in flight; this broker's client also bounds them (maxInFlight, default 5), but a
 * producer may be configured with more, and after a cut connection or a broker restart every
 * unacknowledged batch is sent again, possibly interleaved with the retries of a second client
 * under the same id: the number stays generous so such resends are answered with their offsets.
 */
export const REMEMBERED_BATCHES = 1024

interface Batch {
  baseSequence: number
  count: number
  baseOffset: number
}

interface PartitionSequence {
  next: number
  recent: Batch[]
}

export class ProducerSequences {
  #nextId: number
  readonly #producers = new Map<number, Map<string, PartitionSequence>>()

  constructor(nextId = 1) {
    this.#nextId = nextId
  }

  /** The id the next allocate() hands out. */
  get nextId(): number {
    return this.#nextId
  }

  allocate(): number {
    const id = this.#nextId++
    this.#producers.set(id, new Map())
    return id
  }

  /**
   * Replays batches found in a partition's log at start (oldest first). A producer issued
   * before the restart is known again; one whose batches retention dropped everywhere must
   * call initProducer again (UNKNOWN_PRODUCER), as a Kafka producer does.
   */
  restore(key: string, batches: ReadonlyArray<ProducerBatch & { baseOffset: number }>): void {
    for (const b of batches) {
      if (b.producerId >= this.#nextId) this.#nextId = b.producerId + 1
      if (!this.#producers.has(b.producerId)) this.#producers.set(b.producerId, new Map())
      this.appended(b.producerId, key, b.baseSequence, b.count, b.baseOffset)
    }
  }

  /**
   * Before an append: the base offset of the same batch appended earlier, or undefined when
   * this batch is the next one. Throws for a gap or an unknown producer.
   */
  check(producerId: number, key: string, baseSequence: number, count: number): number | undefined {
    const producer = this.#producers.get(producerId)
    if (!producer) throw new PubsubError('UNKNOWN_PRODUCER', `producer id ${producerId} was not issued by this broker (call initProducer again)`)
    const state = producer.get(key) ?? { next: 0, recent: [] }
    if (baseSequence === state.next) return undefined
    const seen = state.recent.find((b) => b.baseSequence === baseSequence && b.count === count)
    if (seen) return seen.baseOffset
    if (baseSequence > state.next) {
      throw new PubsubError('OUT_OF_ORDER_SEQUENCE', `producer ${producerId} on ${key}: expected sequence ${state.next}, got ${baseSequence} (a batch is missing)`)
    }
    throw new PubsubError(
      'DUPLICATE_SEQUENCE',
      `producer ${producerId} on ${key}: sequence ${baseSequence} was appended before and is older than the last ${REMEMBERED_BATCHES} batches remembered; its offsets are not known any more`,
    )
  }

  appended(producerId: number, key: string, baseSequence: number, count: number, baseOffset: number): void {
    const producer = this.#producers.get(producerId)!
    const state = producer.get(key) ?? { next: 0, recent: [] }
    state.next = baseSequence + count
    state.recent.push({ baseSequence, count, baseOffset })
    if (state.recent.length > REMEMBERED_BATCHES) state.recent.shift()
    producer.set(key, state)
  }

  get size(): number {
    return this.#producers.size
  }
}
