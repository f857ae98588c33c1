// A record on disk: [u32 length][u32 crc32 of the body][body]. The body is offset (f64),
// timestamp (f64), key length (i32, -1 for none), key, value length (u32), value, headers
// length (u32), headers as JSON. A frame whose length or CRC does not check is a torn tail.
import { crc32 } from 'node:zlib'
import type { StoredRecord } from '../record.ts'

export const FRAME_HEADER = 8

export function encodeFrame(record: StoredRecord): Buffer {
  const headers = Object.keys(record.headers).length ? Buffer.from(JSON.stringify(record.headers)) : Buffer.alloc(0)
  const keyLength = record.key ? record.key.length : -1
  const bodyLength = 8 + 8 + 4 + Math.max(0, keyLength) + 4 + record.value.length + 4 + headers.length
  const frame = Buffer.allocUnsafe(FRAME_HEADER + bodyLength)
  let at = FRAME_HEADER
  at = frame.writeDoubleLE(record.offset, at)
  at = frame.writeDoubleLE(record.timestamp, at)
  at = frame.writeInt32LE(keyLength, at)
  if (record.key) at += record.key.copy(frame, at)
  at = frame.writeUInt32LE(record.value.length, at)
  at += record.value.copy(frame, at)
  at = frame.writeUInt32LE(headers.length, at)
  headers.copy(frame, at)
  frame.writeUInt32LE(bodyLength, 0)
  frame.writeUInt32LE(crc32(frame.subarray(FRAME_HEADER)), 4)
  return frame
}

/** Decodes the frames of `data`; stops at the first one that is incomplete or fails its CRC, and says where. */
export function decodeFrames(data: Buffer): { records: StoredRecord[]; validBytes: number } {
  const records: StoredRecord[] = []
  let at = 0
  while (at + FRAME_HEADER <= data.length) {
    const length = data.readUInt32LE(at)
    const end = at + FRAME_HEADER + length
    if (length < 28 || end > data.length) break
    const body = data.subarray(at + FRAME_HEADER, end)
    if (crc32(body) !== data.readUInt32LE(at + 4)) break
    try {
      records.push(decodeBody(body))
    } catch {
      break
    }
    at = end
  }
  return { records, validBytes: at }
}

function decodeBody(body: Buffer): StoredRecord {
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
  const headers = headersLength ? (JSON.parse(body.subarray((at += 4), at + headersLength).toString()) as Record<string, string>) : {}
  return { offset, timestamp, ...(key ? { key } : {}), value, headers }
}
