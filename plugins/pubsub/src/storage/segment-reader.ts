// Reading frames back from segment files, sequentially from a position: the disk side of file
// storage's reads, retention and timestamp lookups. One buffered positional read serves many
// frames; a frame larger than the buffer gets a buffer of its own size.
import { readSync } from 'node:fs'
import type { StoredRecord } from '../record.ts'
import { decodeFrameAt, FRAME_HEADER } from './frame.ts'
import type { ProducerBatch } from './storage.ts'

const CHUNK = 64 * 1024

/** A segment as its readers see it: its file and the bytes of it written so far. */
export interface ReadableSegment {
  /** The offset of its first record. */
  readonly base: number
  /** The offset after its last record written. */
  readonly end: number
  /** Bytes of frames written to the file (what a read may cover). */
  readonly written: number
  /** A descriptor open for reading. */
  readFd(): number
}

export interface Frame {
  record: StoredRecord
  batch: ProducerBatch | undefined
  /** Where the frame starts in its segment, and its length with the header. */
  position: number
  length: number
}

/** Frames of one segment from `position` on, in order. */
export class SegmentReader {
  readonly #segment: ReadableSegment
  #buffer: Buffer = Buffer.alloc(0)
  /** The file position of #buffer[0]. */
  #bufferAt = 0
  #position: number

  constructor(segment: ReadableSegment, position: number) {
    this.#segment = segment
    this.#position = position
  }

  get segment(): ReadableSegment {
    return this.#segment
  }

  /** The position of the next frame. */
  get position(): number {
    return this.#position
  }

  /** The next frame, or undefined at the end of what was written (or at a frame that does not check). */
  next(): Frame | undefined {
    const written = this.#segment.written
    if (this.#position + FRAME_HEADER > written) return undefined
    if (!this.#holds(this.#position, FRAME_HEADER)) this.#fill(this.#position, FRAME_HEADER)
    const length = FRAME_HEADER + this.#buffer.readUInt32LE(this.#position - this.#bufferAt)
    if (this.#position + length > written) return undefined
    if (!this.#holds(this.#position, length)) this.#fill(this.#position, length)
    const decoded = decodeFrameAt(this.#buffer, this.#position - this.#bufferAt)
    if (!decoded) return undefined
    const frame = { ...decoded, position: this.#position, length }
    this.#position += length
    return frame
  }

  #holds(position: number, length: number): boolean {
    return position >= this.#bufferAt && position + length <= this.#bufferAt + this.#buffer.length
  }

  #fill(position: number, atLeast: number): void {
    const size = Math.min(Math.max(CHUNK, atLeast), this.#segment.written - position)
    const buffer = Buffer.allocUnsafe(size)
    let read = 0
    while (read < size) {
      const n = readSync(this.#segment.readFd(), buffer, read, size - read, position + read)
      if (n === 0) break
      read += n
    }
    this.#buffer = buffer.subarray(0, read)
    this.#bufferAt = position
  }
}
