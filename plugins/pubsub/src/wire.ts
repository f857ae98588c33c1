// Records and errors as the gRPC messages of proto/pubsub.proto carry them (proto-loader with
// keepCase, longs as strings), shared by the service and the client.
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

export function toWire(record: StoredRecord): WireRecord {
  return {
    ...(record.key ? { key: record.key, has_key: true } : {}),
    value: record.value,
    headers: Object.entries(record.headers).map(([key, value]) => ({ key, value })),
    timestamp: record.timestamp,
    offset: record.offset,
  }
}

export function produceToWire(record: ProduceRecord): WireRecord {
  return {
    ...(record.key ? { key: record.key, has_key: true } : {}),
    value: record.value,
    headers: Object.entries(record.headers ?? {}).map(([key, value]) => ({ key, value })),
    ...(record.partition !== undefined ? { partition: record.partition, has_partition: true } : {}),
    ...(record.timestamp !== undefined ? { timestamp: record.timestamp } : {}),
  }
}

function headersOf(wire: WireRecord): Record<string, string> {
  const headers: Record<string, string> = {}
  for (const h of wire.headers ?? []) headers[h.key] = h.value
  return headers
}

export function fromWireProduce(wire: WireRecord, index: number): ProduceRecord {
  if (!wire || typeof wire !== 'object') throw new PubsubError('MALFORMED', `records[${index}]: expected a record`)
  const timestamp = Number(wire.timestamp ?? 0)
  return {
    ...(wire.has_key ? { key: Buffer.from(wire.key ?? []) } : {}),
    value: Buffer.from(wire.value ?? []),
    headers: headersOf(wire),
    ...(wire.has_partition ? { partition: wire.partition ?? 0 } : {}),
    ...(timestamp > 0 ? { timestamp } : {}),
  }
}

export function fromWireStored(wire: WireRecord): StoredRecord {
  return {
    offset: Number(wire.offset ?? 0),
    timestamp: Number(wire.timestamp ?? 0),
    ...(wire.has_key ? { key: Buffer.from(wire.key ?? []) } : {}),
    value: Buffer.from(wire.value ?? []),
    headers: headersOf(wire),
  }
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
