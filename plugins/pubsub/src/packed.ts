// A set of records packed into one protobuf `bytes` field (`packed_records`), as Kafka carries
// a RecordBatch: the client and the broker read and write it with a few buffer operations per
// record instead of a protobuf message, its conversion to an object and back, and a string per
// 64-bit number. Stock tools keep the plain `records` fields (the broker takes either).
//
// Layout, little-endian: u8 version (1), u32 record count, then per record
//   f64 offset, f64 timestamp, i32 partition (-1: none), u32 deliveries,
//   i32 key length (-1: no key), key, u32 value length, value,
//   u16 header count, per header u16 name length, name, u32 value length, value (UTF-8).
// A producer leaves offset and deliveries 0 (and timestamp 0 for the broker's clock); a
// delivery carries its record's offset, timestamp and delivery count, partition -1.
import { PubsubError } from './errors.ts'
import type { ProduceRecord, StoredRecord } from './record.ts'

const VERSION = 1
const SET_HEADER = 1 + 4
const RECORD_FIXED = 8 + 8 + 4 + 4 + 4 + 4 + 2
const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({})

function headersSize(headers: Readonly<Record<string, string>> | undefined): number {
  let size = 0
  for (const name in headers) size += 2 + Buffer.byteLength(name) + 4 + Buffer.byteLength(headers[name]!)
  return size
}

function writeRecord(
  out: Buffer,
  at: number,
  offset: number,
  timestamp: number,
  partition: number,
  deliveries: number,
  key: Buffer | undefined,
  value: Buffer,
  headers: Readonly<Record<string, string>> | undefined,
): number {
  at = out.writeDoubleLE(offset, at)
  at = out.writeDoubleLE(timestamp, at)
  at = out.writeInt32LE(partition, at)
  at = out.writeUInt32LE(deliveries, at)
  if (key) {
    at = out.writeInt32LE(key.length, at)
    at += key.copy(out, at)
  } else at = out.writeInt32LE(-1, at)
  at = out.writeUInt32LE(value.length, at)
  at += value.copy(out, at)
  const countAt = at
  at += 2
  let count = 0
  for (const name in headers) {
    const text = headers[name]!
    const nameBytes = out.write(name, at + 2)
    if (nameBytes > 0xffff) throw new PubsubError('INVALID_ARGUMENT', `header name of ${nameBytes} bytes: at most 65535`)
    out.writeUInt16LE(nameBytes, at)
    at += 2 + nameBytes
    const valueBytes = out.write(text, at + 4)
    out.writeUInt32LE(valueBytes, at)
    at += 4 + valueBytes
    count++
  }
  if (count > 0xffff) throw new PubsubError('INVALID_ARGUMENT', `${count} headers on one record: at most 65535`)
  out.writeUInt16LE(count, countAt)
  return at
}

/** A buffer of the exact size of the packed set, its header written. */
function allocateSet(records: ReadonlyArray<{ key?: Buffer | undefined; value: Buffer; headers?: Readonly<Record<string, string>> | undefined }>): Buffer {
  let size = SET_HEADER
  for (const r of records) size += RECORD_FIXED + (r.key?.length ?? 0) + r.value.length + headersSize(r.headers)
  const out = Buffer.allocUnsafe(size)
  out.writeUInt8(VERSION, 0)
  out.writeUInt32LE(records.length, 1)
  return out
}

/** What a producer sends: key, value, headers, and a partition and timestamp when it chose them. */
export function packProduce(records: readonly ProduceRecord[]): Buffer {
  const out = allocateSet(records)
  let at = SET_HEADER
  for (const r of records) at = writeRecord(out, at, 0, r.timestamp ?? 0, r.partition ?? -1, 0, r.key, r.value, r.headers)
  return out
}

/** Stored records, with each one's delivery count when they are deliveries. */
export function packStored(records: readonly StoredRecord[], deliveries?: readonly number[]): Buffer {
  const out = allocateSet(records)
  let at = SET_HEADER
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!
    at = writeRecord(out, at, r.offset, r.timestamp, -1, deliveries?.[i] ?? 0, r.key, r.value, r.headers)
  }
  return out
}

interface Visit {
  (offset: number, timestamp: number, partition: number, deliveries: number, key: Buffer | undefined, value: Buffer, headers: Readonly<Record<string, string>>): void
}

/** Reads a packed set, checking every length against the bytes there are; keys and values are copied out of `data`. */
function unpack(data: Uint8Array, visit: Visit): void {
  const buf = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength)
  const fail = (what: string): never => {
    throw new PubsubError('MALFORMED', `packed_records: ${what}`)
  }
  if (buf.length < SET_HEADER) fail(`${buf.length} bytes, less than its header`)
  if (buf.readUInt8(0) !== VERSION) fail(`version ${buf.readUInt8(0)}, expected ${VERSION}`)
  const count = buf.readUInt32LE(1)
  let at = SET_HEADER
  let index = 0
  const need = (length: number, what: string): void => {
    if (length < 0 || at + length > buf.length) fail(`record ${index}: ${what} past the end`)
  }
  const u16 = (what: string): number => {
    need(2, what)
    return buf.readUInt16LE((at += 2) - 2)
  }
  const u32 = (what: string): number => {
    need(4, what)
    return buf.readUInt32LE((at += 4) - 4)
  }
  const bytes = (length: number, what: string): Buffer => {
    need(length, what)
    return Buffer.from(buf.subarray(at, (at += length)))
  }
  const text = (length: number, what: string): string => {
    need(length, what)
    return buf.toString('utf8', at, (at += length))
  }
  for (; index < count; index++) {
    if (at + RECORD_FIXED > buf.length) fail(`record ${index} of ${count} runs past the end`)
    const offset = buf.readDoubleLE(at)
    const timestamp = buf.readDoubleLE(at + 8)
    const partition = buf.readInt32LE(at + 16)
    const deliveries = buf.readUInt32LE(at + 20)
    const keyLength = buf.readInt32LE(at + 24)
    at += 28
    const key = keyLength === -1 ? undefined : bytes(keyLength, 'its key runs')
    const value = bytes(u32('its value runs'), 'its value runs')
    const headerCount = u16('its headers run')
    let headers = NO_HEADERS
    if (headerCount > 0) {
      const read: Record<string, string> = {}
      for (let h = 0; h < headerCount; h++) {
        const name = text(u16('its headers run'), 'its header name runs')
        read[name] = text(u32('its headers run'), 'its header value runs')
      }
      headers = read
    }
    visit(offset, timestamp, partition, deliveries, key, value, headers)
  }
  if (at !== buf.length) fail(`${buf.length - at} bytes after the ${count} records it counts`)
}

/** A producer's records (the broker keeps them: they are copies, not views of the request). */
export function unpackProduce(data: Uint8Array): ProduceRecord[] {
  const records: ProduceRecord[] = []
  unpack(data, (_offset, timestamp, partition, _deliveries, key, value, headers) => {
    const record: ProduceRecord = { value, headers: headers === NO_HEADERS ? {} : (headers as Record<string, string>) }
    if (key) record.key = key
    if (partition >= 0) record.partition = partition
    if (timestamp > 0) record.timestamp = timestamp
    records.push(record)
  })
  return records
}

/**
 * Stored records, each with its delivery count. Keys and values are copied: a view would keep
 * the whole reply alive for as long as the application keeps one record's value.
 */
export function unpackStored(data: Uint8Array, each: (record: StoredRecord, deliveries: number) => void): void {
  unpack(data, (offset, timestamp, _partition, deliveries, key, value, headers) => {
    each(key ? { offset, timestamp, key, value, headers } : { offset, timestamp, value, headers }, deliveries)
  })
}
