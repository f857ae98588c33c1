// One partition of file storage: a folder of segment files (`<base offset>.log`, framed records,
// see frame.ts), rolled at segmentBytes, and a `start` file with the first retained offset.
//
// Records are read back from the segment files. Memory holds a tail cache of the newest records
// (at most cacheBytes, plus any not yet written) and, per segment, a sparse index: an entry every
// INDEX_INTERVAL bytes of frames with the entry's offset, its position in the file and the
// largest timestamp before it. A read below the cache finds its segment and the entry at or
// before its offset, and reads frames from there; a timestamp lookup skips the entries whose
// records are all older.
//
// A segment is sealed when the next one is rolled: it is fsynced, then its index, its record
// bytes, its largest timestamp and its idempotent batches go to `<base>.index` beside it (JSON,
// written aside and renamed). At start a sealed segment whose index file names its exact size is
// taken from the index without reading it; the open segment (and any sealed one without a usable
// index) is scanned: every frame's CRC checked, a torn tail cut, the index rebuilt and its
// batches given back to idempotent producers. So a start reads about one segment, not the log,
// as Kafka's recovery point gives it; like Kafka, it trusts a sealed, fsynced segment's bytes.
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
  statSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs'
import { join } from 'node:path'
import { recordSize, type StoredRecord } from '../record.ts'
import { encodeFrame, scanFrames } from './frame.ts'
import { MemoryPartition } from './memory.ts'
import { SegmentReader, type Frame, type ReadableSegment } from './segment-reader.ts'
import type { PartitionStore, ProducerBatch } from './storage.ts'

/** Bytes of frames between two index entries (Kafka's index.interval.bytes). */
export const INDEX_INTERVAL = 4096

const segmentName = (base: number) => `${String(base).padStart(20, '0')}.log`
const indexPathOf = (segmentPath: string) => `${segmentPath.slice(0, -'.log'.length)}.index`
const INDEX_VERSION = 1

/** `<base>.index`: what a start needs of a sealed segment without reading it. */
interface IndexFile {
  version: number
  base: number
  end: number
  /** The segment file's size: an index for a file of another size is not used. */
  written: number
  recordBytes: number
  /** The largest timestamp in the segment (null: JSON has no -Infinity). */
  maxTimestamp: number | null
  /** [offset, position, maxTimestampBefore or null] per entry. */
  entries: Array<[number, number, number | null]>
  /** [producerId, baseSequence, count, baseOffset] per idempotent batch. */
  batches: Array<[number, number, number, number]>
}

type RestoredBatch = ProducerBatch & { baseOffset: number }

interface IndexEntry {
  offset: number
  position: number
  /** The largest timestamp of the partition's records before this one. */
  maxTimestampBefore: number
}

class Segment implements ReadableSegment {
  readonly base: number
  readonly path: string
  end: number
  written = 0
  index: IndexEntry[] = []
  /** recordSize of its records, and the largest of their timestamps. */
  recordBytes = 0
  maxTimestamp = -Infinity
  /** Its idempotent batches, kept until its index file holds them. */
  batches: RestoredBatch[] | undefined = []
  #sinceEntry = Infinity
  #fd: number | undefined

  constructor(base: number, path: string) {
    this.base = base
    this.path = path
    this.end = base
  }

  readFd(): number {
    return (this.#fd ??= openSync(this.path, 'r'))
  }

  closeRead(): void {
    if (this.#fd !== undefined) closeSync(this.#fd)
    this.#fd = undefined
  }

  /** Notes a frame at `position`, indexing it when INDEX_INTERVAL bytes passed since the last entry. */
  note(record: StoredRecord, batch: ProducerBatch | undefined, position: number, length: number, maxTimestampBefore: number): void {
    if (this.#sinceEntry >= INDEX_INTERVAL) {
      this.index.push({ offset: record.offset, position, maxTimestampBefore })
      this.#sinceEntry = 0
    }
    this.#sinceEntry += length
    this.end = record.offset + 1
    this.recordBytes += recordSize(record)
    this.maxTimestamp = Math.max(this.maxTimestamp, record.timestamp)
    if (batch) this.batches?.push({ ...batch, baseOffset: record.offset })
  }

  /** Writes `<base>.index` (after the segment itself was made durable) and lets its batches go. */
  writeIndex(): void {
    const file: IndexFile = {
      version: INDEX_VERSION,
      base: this.base,
      end: this.end,
      written: this.written,
      recordBytes: this.recordBytes,
      maxTimestamp: finiteOrNull(this.maxTimestamp),
      entries: this.index.map((e) => [e.offset, e.position, finiteOrNull(e.maxTimestampBefore)]),
      batches: (this.batches ?? []).map((b) => [b.producerId, b.baseSequence, b.count, b.baseOffset]),
    }
    writeAtomic(indexPathOf(this.path), JSON.stringify(file), true)
    this.batches = undefined
  }

  /**
   * Takes the segment from its index file when there is one for a file of exactly its size that
   * continues at `expected`; answers its batches, or undefined when it has to be scanned.
   */
  restore(expected: number | undefined, size: number): RestoredBatch[] | undefined {
    let file: IndexFile
    let index: IndexEntry[]
    let batches: RestoredBatch[]
    try {
      file = JSON.parse(readFileSync(indexPathOf(this.path), 'utf8')) as IndexFile
      if (file.version !== INDEX_VERSION || file.base !== this.base || file.written !== size || !(file.end > file.base)) return undefined
      if (expected !== undefined && file.base !== expected) return undefined
      index = file.entries.map(([offset, position, before]) => ({ offset, position, maxTimestampBefore: before ?? -Infinity }))
      batches = file.batches.map(([producerId, baseSequence, count, baseOffset]) => ({ producerId, baseSequence, count, baseOffset }))
    } catch {
      // Missing, cut or of another shape: the segment is read instead.
      return undefined
    }
    this.index = index
    this.end = file.end
    this.written = file.written
    this.recordBytes = file.recordBytes
    this.maxTimestamp = file.maxTimestamp ?? -Infinity
    this.batches = undefined
    return batches
  }

  /** Deletes the segment and its index file. */
  remove(): void {
    this.closeRead()
    unlinkSync(this.path)
    rmSync(indexPathOf(this.path), { force: true })
  }

  /** The last entry at or before `offset` (the segment's first frame at least). */
  entryFor(offset: number): IndexEntry {
    if (this.index.length === 0) return { offset: this.base, position: 0, maxTimestampBefore: -Infinity }
    let lo = 0
    let hi = this.index.length - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1
      if (this.index[mid]!.offset <= offset) lo = mid
      else hi = mid - 1
    }
    return this.index[lo]!
  }
}

/** Frames across the segments from an offset on. */
class Cursor {
  readonly #segments: readonly Segment[]
  #reader: SegmentReader
  #ahead: Frame | undefined

  constructor(segments: readonly Segment[], segment: Segment, position: number) {
    this.#segments = segments
    this.#reader = new SegmentReader(segment, position)
  }

  next(): Frame | undefined {
    if (this.#ahead) {
      const frame = this.#ahead
      this.#ahead = undefined
      return frame
    }
    for (;;) {
      const frame = this.#reader.next()
      if (frame) return frame
      const following = this.#segments[this.#segments.indexOf(this.#reader.segment as Segment) + 1]
      if (!following) return undefined
      this.#reader = new SegmentReader(following, 0)
    }
  }

  /** Skips frames before `offset`. */
  skipTo(offset: number): this {
    for (let frame = this.next(); frame; frame = this.next()) {
      if (frame.record.offset >= offset) {
        this.#ahead = frame
        break
      }
    }
    return this
  }
}

export class FilePartition implements PartitionStore {
  readonly #dir: string
  readonly #segmentBytes: number
  readonly #cacheBytes: number
  /** The newest records: every one not yet written, and written ones up to cacheBytes. */
  readonly #cache = new MemoryPartition()
  #segments: Segment[] = []
  #fd: number | undefined
  /** Frames appended and not yet written: the storage writes them once per turn, one write for all. */
  #unwritten: Buffer[] = []
  #unwrittenBytes = 0
  /** Reads stop here: the offset after the last record written to the file. */
  #writtenEnd = 0
  #start = 0
  #end = 0
  #bytes = 0
  #maxTimestamp = -Infinity
  /** Where retention reads next: the frame at #start, kept between truncations. */
  #head: { at: number; cursor: Cursor } | undefined
  readonly #onUnwritten: () => Promise<void>
  dirty = false
  #startDirty = false
  /** Idempotent batches read back at start (their first record's offset with the batch). */
  readonly #batches: RestoredBatch[] = []
  /** How the start found the sealed segments: from their index files, or by reading them. */
  readonly opened = { indexed: 0, scanned: 0 }

  constructor(dir: string, options: { segmentBytes: number; cacheBytes: number }, onUnwritten: () => Promise<void>) {
    this.#dir = dir
    this.#segmentBytes = options.segmentBytes
    this.#cacheBytes = options.cacheBytes
    this.#onUnwritten = onUnwritten
    mkdirSync(dir, { recursive: true })
    const startFile = join(dir, 'start')
    const start = existsSync(startFile) ? Number(readFileSync(startFile, 'utf8')) || 0 : 0
    const names = readdirSync(dir)
      .filter((n) => n.endsWith('.log'))
      .sort()
    let expected: number | undefined
    let torn = false
    for (const [i, name] of names.entries()) {
      const path = join(dir, name)
      if (torn) {
        // After a torn segment nothing later can be trusted to continue the offsets.
        rmSync(indexPathOf(path), { force: true })
        unlinkSync(path)
        continue
      }
      const segment = new Segment(Number(name.slice(0, -4)), path)
      const sealed = i < names.length - 1
      // A start inside a segment counts only the bytes from the start on: that one is read.
      const restored = sealed ? segment.restore(expected, statSync(path).size) : undefined
      if (restored && (start <= segment.base || start >= segment.end)) {
        this.#batches.push(...restored)
        this.#maxTimestamp = Math.max(this.#maxTimestamp, segment.maxTimestamp)
        if (start <= segment.base) this.#bytes += segment.recordBytes
        expected = segment.end
        this.opened.indexed++
        this.#segments.push(segment)
        continue
      }
      const scanned = new Segment(segment.base, path)
      const data = readFileSync(path)
      let kept = 0
      let broken = false
      scanFrames(data, (record, batch, position, length) => {
        // Offsets must continue densely; anything after a gap is a torn write.
        if (broken || (expected !== undefined && record.offset !== expected)) {
          broken = true
          return
        }
        expected = record.offset + 1
        scanned.note(record, batch, position, length, this.#maxTimestamp)
        this.#maxTimestamp = Math.max(this.#maxTimestamp, record.timestamp)
        kept = position + length
        if (batch) this.#batches.push({ ...batch, baseOffset: record.offset })
        if (record.offset >= start) this.#bytes += recordSize(record)
      })
      scanned.written = kept
      if (kept < data.length) {
        const fd = openSync(path, 'r+')
        ftruncateSync(fd, kept)
        fsyncSync(fd)
        closeSync(fd)
        torn = true
      }
      if (sealed) {
        this.opened.scanned++
        // A sealed segment read whole gets the index file it lacked, once it is durable.
        if (!torn && kept > 0) {
          syncFile(path)
          scanned.writeIndex()
        }
      }
      this.#segments.push(scanned)
    }
    this.#end = Math.max(expected ?? 0, start)
    const first = this.#segments.find((s) => s.end > s.base)
    this.#start = Math.min(Math.max(start, first?.base ?? start), this.#end)
    this.#writtenEnd = this.#end
    this.#cache.skipTo(this.#end)
  }

  get startOffset(): number {
    return this.#start
  }
  get endOffset(): number {
    return this.#end
  }
  get bytes(): number {
    return this.#bytes
  }
  /** Bytes of records held in memory (the tail cache). */
  get cachedBytes(): number {
    return this.#cache.bytes
  }
  /** Segment files, oldest first. */
  get segmentCount(): number {
    return this.#segments.length
  }

  append(records: readonly StoredRecord[], batch?: ProducerBatch): Promise<void> {
    let segment = this.#segments.at(-1)
    if (this.#fd === undefined || !segment || segment.written + this.#unwrittenBytes >= this.#segmentBytes) segment = this.#roll(records[0]!.offset)
    for (const [i, record] of records.entries()) {
      const frame = encodeFrame(record, i === 0 ? batch : undefined)
      segment.note(record, i === 0 ? batch : undefined, segment.written + this.#unwrittenBytes, frame.length, this.#maxTimestamp)
      this.#maxTimestamp = Math.max(this.#maxTimestamp, record.timestamp)
      this.#unwritten.push(frame)
      this.#unwrittenBytes += frame.length
      this.#bytes += recordSize(record)
    }
    this.#end = records[records.length - 1]!.offset + 1
    this.#cache.append(records)
    this.dirty = true
    return this.#onUnwritten()
  }

  /** Writes what was appended since the last write, in one write. A failed write keeps the frames for the next one. */
  write(): void {
    if (this.#unwritten.length === 0 || this.#fd === undefined) return
    const frames = this.#unwritten.length === 1 ? this.#unwritten[0]! : Buffer.concat(this.#unwritten)
    writeSync(this.#fd, frames)
    this.#segments.at(-1)!.written += frames.length
    this.#unwritten = []
    this.#unwrittenBytes = 0
    this.#writtenEnd = this.#end
    // Written records may leave the cache now: the file has them.
    while (this.#cache.bytes > this.#cacheBytes && this.#cache.startOffset < this.#writtenEnd) this.#cache.truncateBefore(this.#cache.startOffset + 1)
  }

  read(offset: number, maxMessages: number, maxBytes: number): StoredRecord[] {
    const limit = Math.min(maxMessages, this.#writtenEnd - offset)
    if (limit <= 0) return []
    const cached = this.#cache.startOffset
    if (offset >= cached) return this.#cache.read(offset, limit, maxBytes)
    const out: StoredRecord[] = []
    let bytes = 0
    const take = (record: StoredRecord): boolean => {
      bytes += recordSize(record)
      if (out.length > 0 && bytes > maxBytes) return false
      out.push(record)
      return out.length < limit
    }
    const cursor = this.#cursorAt(offset)
    let next = offset
    for (let frame = cursor.next(); frame && frame.record.offset < cached; frame = cursor.next()) {
      if (!take(frame.record)) return out
      next = frame.record.offset + 1
    }
    // The files gave every record up to the cache: the rest comes from it.
    if (next === cached) for (const record of this.#cache.read(cached, limit - out.length, Infinity)) if (!take(record)) break
    return out
  }

  restoredBatches(): RestoredBatch[] {
    // Only batches whose every record came back: a batch cut by a torn tail was never acknowledged.
    return this.#batches.filter((b) => b.baseOffset >= this.#start && b.baseOffset + b.count <= this.#end)
  }

  offsetForTimestamp(timestamp: number): number {
    const cached = this.#cache.startOffset
    if (this.#start < cached) {
      // The last entry whose earlier records are all older: the answer is at or after it.
      let from = this.#start
      search: for (const segment of this.#segments) {
        for (const entry of segment.index) {
          if (entry.maxTimestampBefore >= timestamp) break search
          from = Math.max(from, entry.offset)
        }
      }
      if (from < cached) {
        const cursor = this.#cursorAt(from)
        for (let frame = cursor.next(); frame && frame.record.offset < cached; frame = cursor.next()) {
          if (frame.record.timestamp >= timestamp) return frame.record.offset
        }
      }
    }
    return this.#cache.offsetForTimestamp(timestamp)
  }

  oldestTimestamp(): number | undefined {
    if (this.#start >= this.#end) return undefined
    if (this.#start >= this.#cache.startOffset) return this.#cache.oldestTimestamp()
    return this.#cursorAt(this.#start).next()?.record.timestamp
  }

  truncateBefore(offset: number): number {
    const to = Math.min(offset, this.#end)
    if (to <= this.#start) return 0
    let freed = 0
    const onDisk = Math.min(to, this.#cache.startOffset)
    if (this.#start < onDisk) {
      const cursor = this.#head?.at === this.#start ? this.#head.cursor : this.#cursorAt(this.#start)
      let at = this.#start
      while (at < onDisk) {
        const frame = cursor.next()
        if (!frame) break
        freed += recordSize(frame.record)
        at = frame.record.offset + 1
      }
      this.#head = { at, cursor }
    }
    if (to > this.#cache.startOffset) freed += this.#cache.truncateBefore(to)
    this.#start = to
    this.#bytes -= freed
    this.#startDirty = true
    // Whole segments below the start go; the open one stays.
    while (this.#segments.length > 1 && this.#segments[0]!.end <= this.#start) {
      this.#segments.shift()!.remove()
      this.#head = undefined
    }
    return freed
  }

  sync(): void {
    this.write()
    if (this.#fd !== undefined && this.dirty) fsyncData(this.#fd)
    this.dirty = false
    if (this.#startDirty) {
      writeAtomic(join(this.#dir, 'start'), String(this.#start))
      this.#startDirty = false
    }
  }

  async close(): Promise<void> {
    this.sync()
    if (this.#fd !== undefined) closeSync(this.#fd)
    this.#fd = undefined
    for (const segment of this.#segments) segment.closeRead()
  }

  /** A cursor at the frame of `offset` (startOffset <= offset < the cache's start). */
  #cursorAt(offset: number): Cursor {
    let lo = 0
    let hi = this.#segments.length - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1
      if (this.#segments[mid]!.base <= offset) lo = mid
      else hi = mid - 1
    }
    const segment = this.#segments[lo]!
    return new Cursor(this.#segments, segment, segment.entryFor(offset).position).skipTo(offset)
  }

  #roll(base: number): Segment {
    let last = this.#segments.at(-1)
    // An empty last segment (nothing was appended to it) is written to instead of a new one.
    const sealing = last && last.end !== last.base ? last : undefined
    if (this.#fd !== undefined) {
      this.write()
      fsyncData(this.#fd)
      closeSync(this.#fd)
      this.#fd = undefined
    } else if (sealing) {
      // The segment a start left open, sealed without having been appended to: made durable first.
      syncFile(sealing.path)
    }
    if (!last || sealing) {
      // The segment is sealed and durable: its index file lets a start skip reading it.
      sealing?.writeIndex()
      last = new Segment(base, join(this.#dir, segmentName(base)))
      this.#segments.push(last)
    }
    this.#fd = openSync(last.path, 'a')
    return last
  }
}

const finiteOrNull = (n: number) => (Number.isFinite(n) ? n : null)

export function fsyncData(fd: number): void {
  // fdatasync where the platform has it; fsync otherwise.
  try {
    fdatasyncSync(fd)
  } catch {
    fsyncSync(fd)
  }
}

/** Replaces `path` with `text` whole (write aside, then rename); `sync` makes the new file durable before the rename. */
export function writeAtomic(path: string, text: string, sync = false): void {
  const aside = `${path}.tmp`
  writeFileSync(aside, text)
  if (sync) syncFile(aside)
  renameSync(aside, path)
}

/** fsync of a file by its path. */
function syncFile(path: string): void {
  const fd = openSync(path, 'r')
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}
