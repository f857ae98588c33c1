// The idempotent producer: each producer id numbers its batches per partition. A batch whose
// sequence was already appended is answered with its first offsets again (a retry after a lost
// acknowledgement appends once); a sequence beyond the next expected one is a gap, refused.
import { PubsubError } from './errors.ts'

/** Recent batches remembered per producer and partition (Kafka keeps five). */
const REMEMBERED_BATCHES = 5

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
  #nextId = 1
  readonly #producers = new Map<number, Map<string, PartitionSequence>>()

  allocate(): number {
    const id = this.#nextId++
    this.#producers.set(id, new Map())
    return id
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
    throw new PubsubError('OUT_OF_ORDER_SEQUENCE', `producer ${producerId} on ${key}: sequence ${baseSequence} is older than the batches remembered`)
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
