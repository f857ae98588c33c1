// Write balancing: an explicit partition wins, a key hashes with Kafka's murmur2, and keyless
// records go sticky (KIP-480: one partition for a whole batch, then another) or round-robin.
import { PubsubError } from './errors.ts'
import { keyPartition } from './murmur2.ts'

export const KEYLESS_STRATEGIES = ['sticky', 'round-robin'] as const
export type KeylessStrategy = (typeof KEYLESS_STRATEGIES)[number]

export class Partitioner {
  readonly #strategy: KeylessStrategy
  /** Per topic: the sticky partition of the current batch, or the round-robin counter. */
  readonly #next = new Map<string, number>()

  constructor(strategy: KeylessStrategy = 'sticky') {
    this.#strategy = strategy
  }

  /** The sticky partition keyless records of `topic` go to now (undefined before the first). */
  sticky(topic: string): number | undefined {
    return this.#strategy === 'sticky' ? this.#next.get(topic) : undefined
  }

  /** The partition of one record of a batch; `batchStart` marks the first record of a new batch (sticky moves on). */
  pick(topic: string, partitions: number, record: { partition?: number | undefined; key?: Uint8Array | undefined }, batchStart: boolean): number {
    if (record.partition !== undefined) {
      if (!Number.isInteger(record.partition) || record.partition < 0 || record.partition >= partitions) {
        throw new PubsubError('INVALID_PARTITION', `topic '${topic}' has partitions 0..${partitions - 1}, got ${record.partition}`)
      }
      return record.partition
    }
    if (record.key !== undefined && record.key.length > 0) return keyPartition(record.key, partitions)
    const current = this.#next.get(topic)
    if (this.#strategy === 'round-robin') {
      const next = ((current ?? -1) + 1) % partitions
      this.#next.set(topic, next)
      return next
    }
    if (current === undefined || batchStart || current >= partitions) {
      // KIP-480: a new batch takes a different partition than the last one, at random.
      let next = Math.floor(Math.random() * partitions)
      if (partitions > 1 && next === current) next = (next + 1) % partitions
      this.#next.set(topic, next)
      return next
    }
    return current
  }
}
