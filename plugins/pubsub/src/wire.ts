// Records and errors as the gRPC messages of proto/pubsub.proto carry them (proto-loader with
// keepCase, longs as strings): the service's plain `Record` form, for stock tools (the client
// sends and reads records packed, src/packed.ts), and the refusals both sides share.
import { ERROR_CODES, PubsubError, isErrorCode } from './errors.ts'
import type { ProduceRecord, StoredRecord } from './record.ts'

export interface WireHeader {
  key: string
  value: string
}

export interface WireRecord {
  key?: Buffer | Uint8Array | null
  has_key?: boolean
  value?: Buffer | Uint8Array | null
  headers?: WireHeader[]
  partition?: number
  has_partition?: boolean
  timestamp?: string | number
  offset?: string | number
}

// The conversions run once per record: plain assignments, no spreads, and no arrays or objects
// built for empty headers.

export function toWire(record: StoredRecord): WireRecord {
  const wire: WireRecord = { value: record.value, headers: wireHeaders(record.headers), timestamp: record.timestamp, offset: record.offset }
  if (record.key) {
    wire.key = record.key
    wire.has_key = true
  }
  return wire
}

const NO_HEADERS: WireHeader[] = []
function wireHeaders(headers: Readonly<Record<string, string>> | undefined): WireHeader[] {
  let list: WireHeader[] | undefined
  for (const key in headers) (list ??= []).push({ key, value: headers[key]! })
  return list ?? NO_HEADERS
}

function headersOf(wire: WireRecord): Record<string, string> {
  const headers: Record<string, string> = {}
  const list = wire.headers
  if (list) for (let i = 0; i < list.length; i++) headers[list[i]!.key] = list[i]!.value
  return headers
}

export function fromWireProduce(wire: WireRecord, index: number): ProduceRecord {
  if (!wire || typeof wire !== 'object') throw new PubsubError('MALFORMED', `records[${index}]: expected a record`)
  const record: ProduceRecord = { value: Buffer.from(wire.value ?? []), headers: headersOf(wire) }
  if (wire.has_key) record.key = Buffer.from(wire.key ?? [])
  if (wire.has_partition) record.partition = wire.partition ?? 0
  const timestamp = Number(wire.timestamp ?? 0)
  if (timestamp > 0) record.timestamp = timestamp
  return record
}

/** A gRPC status object for a refusal: the code word leads the details, so the client can rebuild the error. */
export function grpcError(error: unknown): { code: number; details: string } {
  if (error instanceof PubsubError) return { code: ERROR_CODES[error.code].grpc, details: error.message }
  return { code: 13, details: error instanceof Error ? error.message : String(error) }
}

/** The PubsubError a gRPC error's details name, or undefined for any other failure. */
export function fromGrpcError(error: { details?: string; message?: string }): PubsubError | undefined {
  const details = error.details ?? error.message ?? ''
  const colon = details.indexOf(': ')
  const code = details.slice(0, colon)
  if (colon > 0 && isErrorCode(code)) return new PubsubError(code, details.slice(colon + 2))
  return undefined
}
