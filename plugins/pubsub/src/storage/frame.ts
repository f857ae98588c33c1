// A record on disk: [u32 length][u32 crc32 of the body][body]. The body is offset (f64),
// timestamp (f64), key length (i32, -1 for none), key, value length (u32), value, headers
// length (u32), headers as JSON, and, on the first record of an idempotent producer's batch,
// producer id (f64), base sequence (f64) and record count (u32): the producer's state lives in
// the log itself (as in Kafka's batch header), so it is exactly as durable as the records.
// A frame whose length or CRC does not check is a torn tail.
import { crc32 } from 'node:zlib'
import type { StoredRecord } from '../record.ts'
import type { ProducerBatch } from './storage.ts'

const BATCH_TRAILER = 8 + 8 + 4

export const FRAME_HEADER = 8

export function encodeFrame(record: StoredRecord, batch?: ProducerBatch): Buffer {
  const headers = Object.keys(record.headers).length ? Buffer.from(JSON.stringify(record.headers)) : Buffer.alloc(0)
  const keyLength = record.key ? record.key.length : -1
  const bodyLength = 8 + 8 + 4 + Math.max(0, keyLength) + 4 + record.value.length + 4 + headers.length + (batch ? BATCH_TRAILER : 0)
  const frame = Buffer.allocUnsafe(FRAME_HEADER + bodyLength)
  let at = FRAME_HEADER
  at = frame.writeDoubleLE(record.offset, at)
  at = frame.writeDoubleLE(record.timestamp, at)
  at = frame.writeInt32LE(keyLength, at)
  if (record.key) at += record.key.copy(frame, at)
  at = frame.writeUInt32LE(record.value.length, at)
  at += record.value.copy(frame, at)
  at = frame.writeUInt32LE(headers.length, at)
  at += headers.copy(frame, at)
  if (batch) {
    at = frame.writeDoubleLE(batch.producerId, at)
    at = frame.writeDoubleLE(batch.baseSequence, at)
    frame.writeUInt32LE(batch.count, at)
  }
  frame.writeUInt32LE(bodyLength, 0)
  frame.writeUInt32LE(crc32(frame.subarray(FRAME_HEADER)), 4)
  return frame
}

/**
 * Calls `visit` for each frame of `data` in order, with where it starts and its length; stops at
 * the first one that is incomplete or fails its CRC, and answers the bytes of whole frames.
 */
export function scanFrames(data: Buffer, visit: (record: StoredRecord, batch: ProducerBatch | undefined, position: number, length: number) => void): number {
  let at = 0
  for (;;) {
    const frame = decodeFrameAt(data, at)
    if (!frame) return at
    const length = FRAME_HEADER + data.readUInt32LE(at)
    visit(frame.record, frame.batch, at, length)
    at += length
  }
}

/** The frame starting at `at` in `data`, or undefined when it is incomplete or fails its CRC. */
export function decodeFrameAt(data: Buffer, at: number): { record: StoredRecord; batch: ProducerBatch | undefined } | undefined {
  if (at + FRAME_HEADER > data.length) return undefined
  const length = data.readUInt32LE(at)
  const end = at + FRAME_HEADER + length
  if (length < 28 || end > data.length) return undefined
  const body = data.subarray(at + FRAME_HEADER, end)
  if (crc32(body) !== data.readUInt32LE(at + 4)) return undefined
  try {
    return decodeBody(body)
  } catch {
    return undefined
  }
}

function decodeBody(body: Buffer): { record: StoredRecord; batch: ProducerBatch | undefined } {
  let at = 0
  const offset = body.readDoubleLE(at)
  const timestamp = body.readDoubleLE((at += 8))
  const keyLength = body.readInt32LE((at += 8))
  at += 4
  // Copies, so a record does not pin the whole segment buffer read at start.
  const key = keyLength >= 0 ? Buffer.from(body.subarray(at, (at += keyLength))) : undefined
  const valueLength = body.readUInt32LE(at)
  const value = Buffer.from(body.subarray((at += 4), (at += valueLength)))
  const headersLength = body.readUInt32LE(at)
  at += 4
  const headers = headersLength ? (JSON.parse(body.subarray(at, at + headersLength).toString()) as Record<string, string>) : {}
  at += headersLength
  const batch = body.length - at >= BATCH_TRAILER ? { producerId: body.readDoubleLE(at), baseSequence: body.readDoubleLE(at + 8), count: body.readUInt32LE(at + 16) } : undefined
  return { record: { offset, timestamp, ...(key ? { key } : {}), value, headers }, batch }
}
