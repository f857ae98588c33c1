// Record framing for the mutation log: [length u32 BE][crc32 u32 BE][payload].
// The length lets a reader find the end of a record, the checksum tells a complete
// record from one the process died while writing (a torn tail) or one the disk mangled.
import { crc32 } from 'node:zlib'
import { CorruptDataError, UnencodableError } from './errors.ts'
import type { Mutation } from './mutation.ts'

const HEADER = 8
/** A record larger than this is taken as garbage, not a real length. */
export const MAX_RECORD_BYTES = 64 * 1024 * 1024

export function frame(payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(HEADER + payload.length)
  out.writeUInt32BE(payload.length, 0)
  out.writeUInt32BE(crc32(payload), 4)
  payload.copy(out, HEADER)
  return out
}

export interface Unframed {
  readonly records: Buffer[]
  /** Offset just past the last good record. */
  readonly goodBytes: number
  /** Set when bytes after goodBytes are not a complete, valid record. */
  readonly torn?: { readonly offset: number; readonly bytes: number; readonly reason: string }
}

/**
 * Splits a log into records. A bad record at the end (short, bad checksum, or zero
 * fill a crash can leave) is a torn tail: reported, not thrown. A bad record followed
 * by more data is corruption in the middle, which would silently lose the writes after
 * it, so that throws.
 */
export function unframe(buf: Buffer, source: string): Unframed {
  const records: Buffer[] = []
  let offset = 0
  while (offset < buf.length) {
    const problem = checkRecord(buf, offset)
    if (problem) {
      const rest = buf.subarray(offset)
      const declared = rest.length >= 4 ? rest.readUInt32BE(0) : 0
      const reachesEnd = rest.length < HEADER || offset + HEADER + declared >= buf.length
      if (reachesEnd || rest.every((b) => b === 0)) {
        return { records, goodBytes: offset, torn: { offset, bytes: rest.length, reason: problem } }
      }
      throw new CorruptDataError(`${source}: ${problem} at byte ${offset}, with ${rest.length} bytes after it; refusing to drop them`)
    }
    const length = buf.readUInt32BE(offset)
    records.push(buf.subarray(offset + HEADER, offset + HEADER + length))
    offset += HEADER + length
  }
  return { records, goodBytes: offset }
}

function checkRecord(buf: Buffer, offset: number): string | undefined {
  if (buf.length - offset < HEADER) return 'incomplete record header'
  const length = buf.readUInt32BE(offset)
  if (length === 0 || length > MAX_RECORD_BYTES) return `implausible record length ${length}`
  if (offset + HEADER + length > buf.length) return 'incomplete record'
  const payload = buf.subarray(offset + HEADER, offset + HEADER + length)
  if (crc32(payload) !== buf.readUInt32BE(offset + 4)) return 'checksum mismatch'
  return undefined
}

/** The framed record of a mutation; throws UnencodableError for a value JSON.stringify cannot write. */
export function encodeMutation(mutation: Mutation): Buffer {
  let json: string
  try {
    json = JSON.stringify(mutation)
  } catch (err) {
    // A value nested thousands deep overflows JSON.stringify's recursion (RangeError).
    const what = mutation.op === 'put' ? `document ${mutation.doc.collection}/${mutation.doc.id}` : `deletion of ${mutation.collection}/${mutation.id}`
    throw new UnencodableError(`${what} cannot be encoded for the log (${(err as Error).message}); nothing was changed`)
  }
  return frame(Buffer.from(json, 'utf8'))
}

export function decodeMutation(payload: Buffer, source: string): Mutation {
  let m: Mutation
  try {
    m = JSON.parse(payload.toString('utf8')) as Mutation
  } catch (err) {
    throw new CorruptDataError(`${source}: a record with a valid checksum is not JSON (${(err as Error).message})`)
  }
  if (!m || !Number.isSafeInteger(m.seq) || (m.op !== 'put' && m.op !== 'delete')) {
    throw new CorruptDataError(`${source}: a record is not a mutation`)
  }
  return m
}
