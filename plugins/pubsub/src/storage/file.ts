// File storage: per partition a folder of segment files (`<base offset>.log`, framed records,
// see frame.ts), rolled at segmentBytes; a `start` file with the first retained offset; topic
// metadata in `meta.json`; committed offsets and group generations in `groups.json (written once a second and at close)`;
// the next idempotent producer id in `producers.json` (the producers' sequences live in the segment frames).
// Retained records are also held in memory (the broker's byte budget bounds them), so reads
// never touch the disk; at start each segment is read back, and a torn tail is cut off.
import {
  closeSync,
  existsSync,
  fdatasyncSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs'
import { join } from 'node:path'
import type { StoredRecord } from '../record.ts'
import { encodeFrame, decodeFrames } from './frame.ts'
import { MemoryPartition } from './memory.ts'
import type { BrokerStorage, GroupRecord, PartitionStore, ProducerBatch, TopicMeta } from './storage.ts'

export const FSYNC_POLICIES = ['always', 'everysec', 'no'] as const
export type FsyncPolicy = (typeof FSYNC_POLICIES)[number]

const segmentName = (base: number) => `${String(base).padStart(20, '0')}.log`

interface Segment {
  base: number
  path: string
  /** The offset after its last record. */
  end: number
}

class FilePartition implements PartitionStore {
  readonly #memory = new MemoryPartition()
  readonly #dir: string
  readonly #segmentBytes: number
  #segments: Segment[] = []
  #fd: number | undefined
  #written = 0
  /** Frames appended and not yet written: the storage writes them once per turn, one write for all. */
  #unwritten: Buffer[] = []
  /** Reads stop here: the offset after the last record written to the file. */
  #writtenEnd = 0
  readonly #onUnwritten: () => Promise<void>
  dirty = false
  #startDirty = false
  /** Idempotent batches read back at start (their first record's offset with the batch). */
  readonly #batches: Array<ProducerBatch & { baseOffset: number }> = []

  constructor(dir: string, segmentBytes: number, onUnwritten: () => Promise<void>) {
    this.#dir = dir
    this.#segmentBytes = segmentBytes
    this.#onUnwritten = onUnwritten
    mkdirSync(dir, { recursive: true })
    const startFile = join(dir, 'start')
    const start = existsSync(startFile) ? Number(readFileSync(startFile, 'utf8')) || 0 : 0
    const names = readdirSync(dir)
      .filter((n) => n.endsWith('.log'))
      .sort()
    let expected: number | undefined
    let torn = false
    for (const name of names) {
      if (torn) {
        // After a torn segment nothing later can be trusted to continue the offsets.
        unlinkSync(join(dir, name))
        continue
      }
      const path = join(dir, name)
      const base = Number(name.slice(0, -4))
      const data = readFileSync(path)
      const { records, batches, validBytes } = decodeFrames(data)
      // Offsets must continue densely; anything after a gap or a bad frame is a torn write.
      let keep = 0
      let bytes = 0
      for (const r of records) {
        if (expected !== undefined && r.offset !== expected) break
        expected = r.offset + 1
        keep++
        const batch = batches.get(r.offset)
        if (batch) this.#batches.push({ ...batch, baseOffset: r.offset })
        bytes += encodeFrame(r, batch).length
      }
      if (bytes < data.length) {
        const fd = openSync(path, 'r+')
        ftruncateSync(fd, keep === records.length ? validBytes : bytes)
        fsyncSync(fd)
        closeSync(fd)
      }
      const retained = records.slice(0, keep).filter((r) => r.offset >= start)
      if (retained.length) {
        if (this.#memory.endOffset === 0) this.#seed(retained[0]!.offset)
        this.#memory.append(retained)
      }
      this.#segments.push({ base, path, end: keep ? records[keep - 1]!.offset + 1 : base })
      if (keep < records.length || validBytes < data.length) torn = true
    }
    if (this.#memory.endOffset === 0 && start > 0) this.#seed(start)
    if (this.#memory.endOffset < (expected ?? 0)) this.#seed(expected!)
    this.#writtenEnd = this.#memory.endOffset
  }

  /** An empty memory log positioned at `offset` (records below it were dropped by retention). */
  #seed(offset: number): void {
    if (offset > this.#memory.endOffset) this.#memory.skipTo(offset)
  }

  get startOffset(): number {
    return this.#memory.startOffset
  }
  get endOffset(): number {
    return this.#memory.endOffset
  }
  get bytes(): number {
    return this.#memory.bytes
  }

  append(records: readonly StoredRecord[], batch?: ProducerBatch): Promise<void> {
    if (this.#fd === undefined || this.#written >= this.#segmentBytes) this.#roll(records[0]!.offset)
    for (const [i, record] of records.entries()) {
      const frame = encodeFrame(record, i === 0 ? batch : undefined)
      this.#unwritten.push(frame)
      this.#written += frame.length
    }
    this.#segments[this.#segments.length - 1]!.end = records[records.length - 1]!.offset + 1
    this.#memory.append(records)
    this.dirty = true
    return this.#onUnwritten()
  }

  /** Writes what was appended since the last write, in one write. A failed write keeps the frames for the next one. */
  write(): void {
    if (this.#unwritten.length === 0 || this.#fd === undefined) return
    const frames = this.#unwritten.length === 1 ? this.#unwritten[0]! : Buffer.concat(this.#unwritten)
    writeSync(this.#fd, frames)
    this.#unwritten = []
    this.#writtenEnd = this.#memory.endOffset
  }

  read(offset: number, maxMessages: number, maxBytes: number): StoredRecord[] {
    return this.#memory.read(offset, Math.min(maxMessages, this.#writtenEnd - offset), maxBytes)
  }

  restoredBatches(): Array<ProducerBatch & { baseOffset: number }> {
    // Only batches whose every record came back: a batch cut by a torn tail was never acknowledged.
    return this.#batches.filter((b) => b.baseOffset >= this.startOffset && b.baseOffset + b.count <= this.endOffset)
  }
  offsetForTimestamp(timestamp: number): number {
    return this.#memory.offsetForTimestamp(timestamp)
  }
  oldestTimestamp(): number | undefined {
    return this.#memory.oldestTimestamp()
  }

  truncateBefore(offset: number): number {
    const freed = this.#memory.truncateBefore(offset)
    this.#startDirty = true
    // Whole segments below the start go; the open one stays.
    while (this.#segments.length > 1 && this.#segments[0]!.end <= this.#memory.startOffset) {
      unlinkSync(this.#segments.shift()!.path)
    }
    return freed
  }

  sync(): void {
    this.write()
    if (this.#fd !== undefined && this.dirty) fsyncData(this.#fd)
    this.dirty = false
    if (this.#startDirty) {
      writeAtomic(join(this.#dir, 'start'), String(this.#memory.startOffset))
      this.#startDirty = false
    }
  }

  async close(): Promise<void> {
    this.sync()
    if (this.#fd !== undefined) closeSync(this.#fd)
    this.#fd = undefined
  }

  #roll(base: number): void {
    if (this.#fd !== undefined) {
      this.write()
      fsyncData(this.#fd)
      closeSync(this.#fd)
    }
    const last = this.#segments[this.#segments.length - 1]
    const path = last && last.end === last.base ? last.path : join(this.#dir, segmentName(base))
    if (!last || last.path !== path) this.#segments.push({ base, path, end: base })
    this.#fd = openSync(path, 'a')
    this.#written = 0
  }
}

function fsyncData(fd: number): void {
  // fdatasync where the platform has it; fsync otherwise.
  try {
    fdatasyncSync(fd)
  } catch {
    fsyncSync(fd)
  }
}

function writeAtomic(path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text)
  renameSync(`${path}.tmp`, path)
}

export class FileStorage implements BrokerStorage {
  readonly kind = 'file'
  readonly #dir: string
  readonly #fsync: FsyncPolicy
  readonly #segmentBytes: number
  readonly #partitions = new Map<string, FilePartition>()
  readonly #groups = new Map<string, GroupRecord>()
  readonly #dirtyGroups = new Set<string>()
  #timer: NodeJS.Timeout | undefined
  #writing: Promise<void> | undefined

  constructor(options: { dir: string; fsync: FsyncPolicy; segmentBytes?: number }) {
    this.#dir = options.dir
    this.#fsync = options.fsync
    this.#segmentBytes = options.segmentBytes ?? 64 * 1024 * 1024
    mkdirSync(join(this.#dir, 'topics'), { recursive: true })
    this.#loadGroups()
    // everysec syncs the logs once a second; every policy writes committed offsets once a second.
    this.#timer = setInterval(() => this.#periodic(), 1000)
    this.#timer.unref()
  }

  loadTopics(): TopicMeta[] {
    const root = join(this.#dir, 'topics')
    return readdirSync(root)
      .filter((name) => existsSync(join(root, name, 'meta.json')))
      .map((name) => JSON.parse(readFileSync(join(root, name, 'meta.json'), 'utf8')) as TopicMeta)
  }

  saveTopic(meta: TopicMeta): void {
    const dir = join(this.#dir, 'topics', meta.name)
    mkdirSync(dir, { recursive: true })
    writeAtomic(join(dir, 'meta.json'), JSON.stringify(meta))
  }

  deleteTopic(name: string): void {
    for (const key of [...this.#partitions.keys()]) if (key.startsWith(`${name}/`)) this.#partitions.delete(key)
    rmSync(join(this.#dir, 'topics', name), { recursive: true, force: true })
  }

  openPartition(topic: string, partition: number): PartitionStore {
    const store = new FilePartition(join(this.#dir, 'topics', topic, String(partition)), this.#segmentBytes, () => this.#scheduleWrite())
    this.#partitions.set(`${topic}/${partition}`, store)
    return store
  }

  loadNextProducerId(): number {
    const path = join(this.#dir, 'producers.json')
    return existsSync(path) ? Number((JSON.parse(readFileSync(path, 'utf8')) as { nextProducerId: number }).nextProducerId) || 1 : 1
  }

  saveNextProducerId(next: number): void {
    // Ids are handed out seldom (once per producer), so each is written through at once.
    const path = join(this.#dir, 'producers.json')
    writeFileSync(`${path}.tmp`, JSON.stringify({ nextProducerId: next }))
    const fd = openSync(`${path}.tmp`, 'r+')
    fsyncSync(fd)
    closeSync(fd)
    renameSync(`${path}.tmp`, path)
  }

  loadGroups(): GroupRecord[] {
    return [...this.#groups.values()].map((g) => ({ ...g, offsets: [...g.offsets] }))
  }

  saveOffset(group: string, topic: string, partition: number, offset: number): void {
    const record = this.#group(group)
    const existing = record.offsets.find((o) => o.topic === topic && o.partition === partition)
    if (existing) existing.offset = offset
    else record.offsets.push({ topic, partition, offset })
    this.#dirtyGroups.add(group)
  }

  saveGeneration(group: string, generation: number): void {
    this.#group(group).generation = generation
    this.#dirtyGroups.add(group)
  }

  /** The write (and with always the sync) of what was appended this turn; a produce is acknowledged after it. */
  durable(): Promise<void> | undefined {
    return this.#writing
  }

  /**
   * Group write: the frames every produce appended in this turn of the event loop (all the
   * requests its reads brought) go to the file in one write per partition, right after the
   * turn's I/O; with always one sync serves them all. Each produce is acknowledged after it.
   */
  #scheduleWrite(): Promise<void> {
    if (this.#writing) return this.#writing
    const writing = (this.#writing = new Promise<void>((resolve, reject) =>
      setImmediate(() => {
        this.#writing = undefined
        try {
          for (const p of this.#partitions.values()) {
            p.write()
            if (this.#fsync === 'always' && p.dirty) p.sync()
          }
          resolve()
        } catch (error) {
          reject(error)
        }
      }),
    ))
    // An append nobody awaits (a delayed or dead-letter one) must not fail the process; its frames are written with the next write.
    writing.catch(() => {})
    return writing
  }

  async flush(): Promise<void> {
    for (const p of this.#partitions.values()) p.sync()
    this.#writeGroups()
  }

  async close(): Promise<void> {
    clearInterval(this.#timer)
    await this.flush()
    for (const p of this.#partitions.values()) await p.close()
  }

  #periodic(): void {
    if (this.#fsync === 'everysec') for (const p of this.#partitions.values()) p.sync()
    if (this.#dirtyGroups.size) this.#writeGroups()
  }

  #group(id: string): GroupRecord {
    let record = this.#groups.get(id)
    if (!record) this.#groups.set(id, (record = { id, generation: 0, offsets: [] }))
    return record
  }

  #loadGroups(): void {
    const path = join(this.#dir, 'groups.json')
    if (!existsSync(path)) return
    for (const g of JSON.parse(readFileSync(path, 'utf8')) as GroupRecord[]) this.#groups.set(g.id, g)
  }

  #writeGroups(): void {
    const path = join(this.#dir, 'groups.json')
    writeFileSync(`${path}.tmp`, JSON.stringify([...this.#groups.values()]))
    const fd = openSync(`${path}.tmp`, 'r+')
    fsyncSync(fd)
    closeSync(fd)
    renameSync(`${path}.tmp`, path)
    this.#dirtyGroups.clear()
  }
}
