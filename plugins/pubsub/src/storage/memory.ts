// Memory storage: records in arrays, nothing survives the process (a reload keeps them, since
// the broker is kept across generations).
import { recordSize, type StoredRecord } from '../record.ts'
import type { BrokerStorage, GroupRecord, PartitionStore, TopicMeta } from './storage.ts'

export class MemoryPartition implements PartitionStore {
  /** records[head] has offset startOffset; the dropped prefix is compacted now and then. */
  #records: StoredRecord[] = []
  #head = 0
  #start = 0
  #bytes = 0

  get startOffset(): number {
    return this.#start
  }
  get endOffset(): number {
    return this.#start + this.#records.length - this.#head
  }
  get bytes(): number {
    return this.#bytes
  }

  append(records: readonly StoredRecord[]): void {
    for (const record of records) {
      this.#records.push(record)
      this.#bytes += recordSize(record)
    }
  }

  read(offset: number, maxMessages: number, maxBytes: number): StoredRecord[] {
    const out: StoredRecord[] = []
    let bytes = 0
    for (let i = this.#head + (offset - this.#start); i < this.#records.length && out.length < maxMessages; i++) {
      const record = this.#records[i]!
      bytes += recordSize(record)
      if (out.length > 0 && bytes > maxBytes) break
      out.push(record)
    }
    return out
  }

  /** An empty log starts at `offset` (file storage reopening a partition whose records retention dropped). */
  skipTo(offset: number): void {
    if (this.#records.length - this.#head > 0) throw new Error('skipTo on a partition that holds records')
    this.#start = offset
  }

  offsetForTimestamp(timestamp: number): number {
    // Timestamps are the broker's append time unless a producer set them: scan, not bisect.
    for (let i = this.#head; i < this.#records.length; i++) if (this.#records[i]!.timestamp >= timestamp) return this.#start + i - this.#head
    return this.endOffset
  }

  oldestTimestamp(): number | undefined {
    return this.#records[this.#head]?.timestamp
  }

  truncateBefore(offset: number): number {
    let freed = 0
    while (this.#start < offset && this.#head < this.#records.length) {
      freed += recordSize(this.#records[this.#head]!)
      this.#records[this.#head] = undefined as never
      this.#head++
      this.#start++
    }
    if (this.#head > 1024 && this.#head * 2 > this.#records.length) {
      this.#records = this.#records.slice(this.#head)
      this.#head = 0
    }
    this.#bytes -= freed
    return freed
  }

  async close(): Promise<void> {}
}

export class MemoryStorage implements BrokerStorage {
  readonly kind = 'memory'
  loadTopics(): TopicMeta[] {
    return []
  }
  saveTopic(): void {}
  deleteTopic(): void {}
  openPartition(): PartitionStore {
    return new MemoryPartition()
  }
  loadGroups(): GroupRecord[] {
    return []
  }
  saveOffset(): void {}
  saveGeneration(): void {}
  async flush(): Promise<void> {}
  async close(): Promise<void> {}
}
