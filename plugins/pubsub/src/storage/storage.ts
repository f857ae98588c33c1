// What the broker needs from a storage engine. Memory keeps everything in the process; file
// keeps segment files per partition and an offsets log, so a restart finds them again.
import type { StoredRecord } from '../record.ts'

export interface Retention {
  /** Records kept per partition; 0 keeps any number. */
  maxRecords: number
  /** Bytes kept per partition; 0 keeps any amount. */
  maxBytes: number
  /** Age of the oldest record kept, in ms; 0 keeps records forever. */
  maxAgeMs: number
}

export interface TopicMeta {
  name: string
  partitions: number
  retention: Retention
  createdAt: number
}

/** An idempotent producer's batch: its id, the first record's sequence and how many records. */
export interface ProducerBatch {
  producerId: number
  baseSequence: number
  count: number
}

/** One partition's append-only log with dense offsets. */
export interface PartitionStore {
  /** The first offset still retained. */
  readonly startOffset: number
  /** The offset the next record gets (the high watermark). */
  readonly endOffset: number
  /** Bytes retained (recordSize of each record). */
  readonly bytes: number
  /**
   * Appends records whose offsets are endOffset, endOffset + 1, ... A store that writes later
   * (file: once per turn, for every append of it) returns when they are written; until then read
   * does not return them, so no consumer sees a record a crash could still take back. `batch`
   * names the idempotent producer batch they are (file storage keeps it with the records).
   */
  append(records: readonly StoredRecord[], batch?: ProducerBatch): void | Promise<void>
  /** Idempotent batches found in the retained records at start, oldest first (file storage), so producer sequences survive a restart. */
  restoredBatches?(): Array<ProducerBatch & { baseOffset: number }>
  /** Up to `maxMessages` written records from `offset` (startOffset <= offset <= endOffset); the first is returned even when larger than maxBytes. */
  read(offset: number, maxMessages: number, maxBytes: number): StoredRecord[]
  /** The first offset whose timestamp is at or after `timestamp` (endOffset when none is). */
  offsetForTimestamp(timestamp: number): number
  /** The timestamp of the record at startOffset. */
  oldestTimestamp(): number | undefined
  /** Drops every record before `offset`; returns the bytes freed. */
  truncateBefore(offset: number): number
  close(): Promise<void>
}

export interface GroupRecord {
  id: string
  /** The generation last reached: a restart continues above it, so members of before the restart are fenced. */
  generation: number
  offsets: Array<{ topic: string; partition: number; offset: number }>
}

export interface BrokerStorage {
  readonly kind: 'memory' | 'file'
  loadTopics(): TopicMeta[]
  saveTopic(meta: TopicMeta): void
  deleteTopic(name: string): void
  openPartition(topic: string, partition: number): PartitionStore
  loadGroups(): GroupRecord[]
  saveOffset(group: string, topic: string, partition: number, offset: number): void
  saveGeneration(group: string, generation: number): void
  /** The next producer id to hand out: stored, so a restarted broker never hands out an id again. */
  loadNextProducerId?(): number
  saveNextProducerId?(next: number): void
  /** Resolves once appends so far are as durable as the fsync policy promises (fsync always: synced). */
  durable?(): Promise<void> | undefined
  /** Writes out and syncs what is buffered (the Flush phase). */
  flush(): Promise<void>
  close(): Promise<void>
}
