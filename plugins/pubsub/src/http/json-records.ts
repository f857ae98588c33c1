// Records as the HTTP and WebSocket JSON carries them. Values and keys are bytes: a `value`
// string is its UTF-8, any other JSON value is stored as its JSON text, and `valueBase64`
// (`keyBase64`) carries arbitrary bytes. Going out, bytes that are valid UTF-8 come as
// `value` (`key`), others as `valueBase64` (`keyBase64`).
import { PubsubError } from '../errors.ts'
import type { ProduceRecord, StoredRecord } from '../record.ts'

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/
const utf8 = new TextDecoder('utf-8', { fatal: true })

function bytesOf(field: string, text: unknown): Buffer {
  if (typeof text !== 'string' || text.length % 4 !== 0 || !BASE64.test(text)) throw new PubsubError('MALFORMED', `${field}: expected standard base64 text`)
  return Buffer.from(text, 'base64')
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)

export function headersFromJson(field: string, headers: unknown): Record<string, string> | undefined {
  if (headers === undefined || headers === null) return undefined
  if (!isObject(headers)) throw new PubsubError('MALFORMED', `${field}: expected an object of string values`)
  for (const [name, value] of Object.entries(headers)) {
    if (typeof value !== 'string') throw new PubsubError('MALFORMED', `${field}.${name}: expected a string, got ${typeof value}`)
  }
  return headers as Record<string, string>
}

/** One record of `{ records: [...] }`, checked; `index` names it in errors. */
export function recordFromJson(raw: unknown, index: number): ProduceRecord {
  const at = `records[${index}]`
  if (!isObject(raw)) throw new PubsubError('MALFORMED', `${at}: expected an object`)
  let value: Buffer
  if (raw.valueBase64 !== undefined) {
    if (raw.value !== undefined) throw new PubsubError('MALFORMED', `${at}: give value or valueBase64, not both`)
    value = bytesOf(`${at}.valueBase64`, raw.valueBase64)
  } else if (raw.value === undefined || raw.value === null) {
    value = Buffer.alloc(0)
  } else {
    value = Buffer.from(typeof raw.value === 'string' ? raw.value : JSON.stringify(raw.value))
  }
  let key: Buffer | undefined
  if (raw.keyBase64 !== undefined) {
    if (raw.key !== undefined && raw.key !== null) throw new PubsubError('MALFORMED', `${at}: give key or keyBase64, not both`)
    key = bytesOf(`${at}.keyBase64`, raw.keyBase64)
  } else if (raw.key !== undefined && raw.key !== null) {
    if (typeof raw.key !== 'string') throw new PubsubError('MALFORMED', `${at}.key: expected a string (keyBase64 for bytes)`)
    key = Buffer.from(raw.key)
  }
  if (raw.partition !== undefined && raw.partition !== null && !Number.isInteger(raw.partition)) {
    throw new PubsubError('INVALID_PARTITION', `${at}.partition: expected an integer, got ${JSON.stringify(raw.partition)}`)
  }
  if (raw.timestamp !== undefined && (!Number.isInteger(raw.timestamp) || (raw.timestamp as number) <= 0)) {
    throw new PubsubError('MALFORMED', `${at}.timestamp: expected milliseconds since the epoch`)
  }
  const headers = headersFromJson(`${at}.headers`, raw.headers)
  return {
    value,
    ...(key ? { key } : {}),
    ...(headers ? { headers } : {}),
    ...(typeof raw.partition === 'number' ? { partition: raw.partition } : {}),
    ...(typeof raw.timestamp === 'number' ? { timestamp: raw.timestamp } : {}),
  }
}

/** The records of a produce body `{ records: [...] }`. */
export function recordsFromJson(body: unknown): ProduceRecord[] {
  if (!isObject(body) || !Array.isArray(body.records)) throw new PubsubError('MALFORMED', 'expected a JSON object { "records": [{ "key", "value", "headers", "partition" }] }')
  if (body.records.length === 0) throw new PubsubError('INVALID_ARGUMENT', 'records: expected at least one record')
  return body.records.map(recordFromJson)
}

function text(bytes: Buffer): string | undefined {
  try {
    return utf8.decode(bytes)
  } catch {
    return undefined
  }
}

export interface JsonRecord {
  topic: string
  partition: number
  offset: number
  timestamp: number
  key?: string | null
  keyBase64?: string
  value?: string
  valueBase64?: string
  headers: Record<string, string>
}

export function recordToJson(topic: string, partition: number, record: StoredRecord): JsonRecord {
  const out: JsonRecord = { topic, partition, offset: record.offset, timestamp: record.timestamp, headers: { ...record.headers } }
  if (record.key === undefined) out.key = null
  else {
    const key = text(record.key)
    if (key === undefined) out.keyBase64 = record.key.toString('base64')
    else out.key = key
  }
  const value = text(record.value)
  if (value === undefined) out.valueBase64 = record.value.toString('base64')
  else out.value = value
  return out
}

export { isObject }
