// The record model: what a producer sends and what a partition log holds.

export interface ProduceRecord {
  key?: Buffer | undefined
  value: Buffer
  headers?: Record<string, string> | undefined
  partition?: number | undefined
  /** Milliseconds since the epoch; the broker's clock when left out. */
  timestamp?: number | undefined
}

export interface StoredRecord {
  readonly offset: number
  readonly timestamp: number
  readonly key?: Buffer | undefined
  readonly value: Buffer
  readonly headers: Readonly<Record<string, string>>
}

/** Bytes a record counts against limits and budgets: its key, value, headers and a fixed overhead. */
export function recordSize(record: { key?: Buffer | undefined; value: Buffer; headers?: Readonly<Record<string, string>> | undefined }): number {
  let size = 32 + record.value.length + (record.key?.length ?? 0)
  for (const name in record.headers) size += name.length + record.headers[name]!.length + 8
  return size
}

/** Kafka's rule: 1 to 249 of [a-zA-Z0-9._-], not '.' or '..'. */
export const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/
export function isTopicName(name: unknown): name is string {
  return typeof name === 'string' && TOPIC_NAME.test(name) && name !== '.' && name !== '..'
}
