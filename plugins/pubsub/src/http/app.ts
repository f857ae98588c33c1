// The broker over HTTP JSON, in the shape of Confluent's REST Proxy v2 where it fits: produce
// to a topic or a partition, topics listed and described, consumer instances that subscribe,
// long-poll records and commit offsets, and groups with their lag. Every refusal is
// `{ error_code, error, retriable }` with the status ERROR_CODES gives the code.
import { Hono, type Context } from 'hono'
import type { Broker } from '../broker.ts'
import { ERROR_CODES, PubsubError } from '../errors.ts'
import type { IngressGate } from '../ingress-gate.ts'
import type { ConsumerInstances } from './consumer-instances.ts'
import { isObject, recordsFromJson, recordToJson } from './json-records.ts'

export interface PubsubHttpOptions {
  /** The request body as JSON (the kernel's bounded reader); `maxBytes` is the produce routes' limit. */
  readJson: (c: Context, options?: { maxBytes?: number; limitName?: string }) => Promise<unknown>
  /** Where the app is mounted (`/pubsub`), for the consumer instances' base_uri. */
  base: string
  gate: IngressGate
  /** Largest produce body, in bytes. */
  maxBodyBytes: number
  /** The consumer instances (kept across reloads by the plugin). */
  consumers: ConsumerInstances
  /** An instance's session timeout when its creation does not give one. */
  consumerTimeoutMs: number
  /** Aborted when the transport stops: long polls answer what they have. */
  signal?: AbortSignal
}

const MAX_WAIT_MS = 60_000

export function pubsubHttp(broker: Broker, options: PubsubHttpOptions): Hono {
  const { gate, consumers } = options
  const signal = options.signal ? AbortSignal.any([options.signal, gate.signal]) : gate.signal

  // Body errors of the kernel's reader (bad JSON, too large) become the broker's named errors.
  const body = async (c: Context, maxBytes?: number): Promise<unknown> => {
    // No body (a commit of every position, an instance with the defaults).
    const length = c.req.header('content-length')
    if (length === '0' || (length === undefined && !c.req.header('transfer-encoding') && c.req.raw.body === null)) return undefined
    try {
      return await options.readJson(c, maxBytes ? { maxBytes, limitName: 'PUBSUB_HTTP_MAX_BODY_BYTES' } : {})
    } catch (error) {
      const status = (error as { status?: unknown }).status
      const message = (error as Error).message
      if (status === 413) throw new PubsubError('BATCH_TOO_LARGE', message)
      if (status === 400 || status === 415) throw new PubsubError('MALFORMED', message)
      throw error
    }
  }
  const produce = async (c: Context, partition?: number) => {
    gate.check('new records')
    const records = recordsFromJson(await body(c, options.maxBodyBytes))
    if (partition !== undefined) for (const record of records) record.partition ??= partition
    gate.check('new records')
    const offsets = await broker.produce(c.req.param('topic')!, records)
    return c.json({ offsets: offsets.map((o) => ({ partition: o.partition, offset: o.offset })) })
  }
  const describeTopic = (name: string) => {
    const t = broker.topics().find((x) => x.name === name)
    if (!t) throw new PubsubError('UNKNOWN_TOPIC', `topic '${name}' does not exist`)
    return {
      name: t.name,
      retention: t.retention,
      createdAt: t.createdAt,
      partitions: t.partitionsInfo.map((p) => ({ partition: p.partition, beginning_offset: p.start, end_offset: p.end, bytes: p.bytes })),
    }
  }
  const describeGroup = (id: string) => {
    const group = broker.group(id)
    const lag = group.lag()
    return { ...group.describe(Date.now()), lag: lag.reduce((n, p) => n + p.lag, 0), partitions: lag }
  }

  const app = new Hono()
    .onError((error, c) => {
      if (!(error instanceof PubsubError)) throw error
      const { http, retriable } = ERROR_CODES[error.code]
      return c.json({ error_code: error.code, error: error.message, retriable }, http, retriable ? { 'retry-after': '1' } : {})
    })
    .get('/topics', (c) => c.json(broker.topics().map((t) => t.name)))
    .post('/topics', async (c) => {
      const b = await body(c)
      if (!isObject(b) || typeof b.name !== 'string')
        throw new PubsubError('MALFORMED', 'expected { "name": "...", "partitions": N, "retention": { "maxRecords", "maxBytes", "maxAgeMs" } }')
      if (b.partitions !== undefined && !Number.isInteger(b.partitions))
        throw new PubsubError('INVALID_PARTITION', `partitions: expected an integer, got ${JSON.stringify(b.partitions)}`)
      if (b.retention !== undefined && !isObject(b.retention)) throw new PubsubError('MALFORMED', 'retention: expected an object')
      broker.createTopic(b.name, { ...(b.partitions !== undefined ? { partitions: b.partitions as number } : {}), ...(b.retention ? { retention: b.retention } : {}) })
      return c.json(describeTopic(b.name), 201)
    })
    .get('/topics/:topic', (c) => c.json(describeTopic(c.req.param('topic'))))
    .post('/topics/:topic', (c) => produce(c))
    .get('/topics/:topic/partitions', (c) => c.json(describeTopic(c.req.param('topic')).partitions))
    .get('/topics/:topic/partitions/:partition', (c) => c.json(partitionInfo(c)))
    .post('/topics/:topic/partitions/:partition', (c) => produce(c, partitionOf(c).partition))
    .get('/topics/:topic/partitions/:partition/offsets', (c) => {
      const { beginning_offset, end_offset } = partitionInfo(c)
      return c.json({ beginning_offset, end_offset })
    })
    .get('/topics/:topic/partitions/:partition/records', async (c) => {
      const { topic, partition } = partitionOf(c)
      const offset = intQuery(c, 'offset', 0, -Infinity)
      const result = await broker.fetch(topic, partition, offset, {
        maxMessages: intQuery(c, 'max_messages', 500, 1),
        maxBytes: intQuery(c, 'max_bytes', 1_048_576, 1),
        maxWaitMs: Math.min(intQuery(c, 'timeout', 0, 0), MAX_WAIT_MS),
        signal,
      })
      return c.json(result.records.map((r) => recordToJson(topic, partition, r)))
    })

    // Consumer instances.
    .post('/consumers/:group', async (c) => {
      gate.check('new subscriptions')
      const group = c.req.param('group')
      const b = (await body(c)) ?? {}
      if (!isObject(b)) throw new PubsubError('MALFORMED', 'expected a JSON object { "auto.offset.reset", "auto.commit.enable", "session.timeout.ms" }')
      const reset = b['auto.offset.reset'] ?? 'earliest'
      if (reset !== 'earliest' && reset !== 'latest') throw new PubsubError('INVALID_ARGUMENT', `auto.offset.reset: expected earliest or latest, got ${JSON.stringify(reset)}`)
      const autoCommit = b['auto.commit.enable'] ?? false
      if (autoCommit !== true && autoCommit !== false && autoCommit !== 'true' && autoCommit !== 'false') {
        throw new PubsubError('INVALID_ARGUMENT', `auto.commit.enable: expected true or false, got ${JSON.stringify(autoCommit)}`)
      }
      const timeout = Number(b['session.timeout.ms'] ?? options.consumerTimeoutMs)
      if (!Number.isInteger(timeout) || timeout < 100 || timeout > 3_600_000) {
        throw new PubsubError('INVALID_ARGUMENT', `session.timeout.ms: expected an integer from 100 to 3600000, got ${JSON.stringify(b['session.timeout.ms'])}`)
      }
      const { id } = consumers.create(group, { reset, autoCommit: autoCommit === true || autoCommit === 'true', sessionTimeoutMs: timeout })
      const origin = new URL(c.req.url).origin
      return c.json({ instance_id: id, base_uri: `${origin}${options.base}/consumers/${encodeURIComponent(group)}/instances/${id}` })
    })
    .delete('/consumers/:group/instances/:id', (c) => {
      consumers.delete(c.req.param('group'), c.req.param('id'))
      return c.body(null, 204)
    })
    .post('/consumers/:group/instances/:id/subscription', async (c) => {
      gate.check('new subscriptions')
      const b = await body(c)
      if (!isObject(b)) throw new PubsubError('MALFORMED', 'expected { "topics": ["..."] }')
      consumers.subscribe(c.req.param('group'), c.req.param('id'), b.topics)
      return c.body(null, 204)
    })
    .get('/consumers/:group/instances/:id/subscription', (c) => c.json({ topics: consumers.subscription(c.req.param('group'), c.req.param('id')) }))
    .delete('/consumers/:group/instances/:id/subscription', (c) => {
      consumers.unsubscribe(c.req.param('group'), c.req.param('id'))
      return c.body(null, 204)
    })
    .get('/consumers/:group/instances/:id/assignments', (c) => c.json({ partitions: consumers.assignments(c.req.param('group'), c.req.param('id')) }))
    .get('/consumers/:group/instances/:id/records', async (c) => {
      const records = await consumers.records(c.req.param('group'), c.req.param('id'), {
        maxWaitMs: gate.open ? Math.min(intQuery(c, 'timeout', 1000, 0), MAX_WAIT_MS) : 0,
        maxBytes: intQuery(c, 'max_bytes', 1_048_576, 1),
        maxMessages: intQuery(c, 'max_messages', 500, 1),
        signal,
      })
      return c.json(records)
    })
    .post('/consumers/:group/instances/:id/offsets', async (c) => {
      const b = await body(c)
      if (b !== undefined && !isObject(b)) throw new PubsubError('MALFORMED', 'expected { "offsets": [{ "topic", "partition", "offset" }] } or no body')
      consumers.commit(c.req.param('group'), c.req.param('id'), b === undefined ? undefined : b.offsets)
      return c.body(null, 204)
    })
    .get('/consumers/:group/instances/:id/offsets', (c) => c.json({ offsets: consumers.committed(c.req.param('group'), c.req.param('id')) }))
    .post('/consumers/:group/instances/:id/positions', async (c) => {
      const b = await body(c)
      consumers.seek(c.req.param('group'), c.req.param('id'), isObject(b) ? b.offsets : undefined)
      return c.body(null, 204)
    })
    .post('/consumers/:group/instances/:id/positions/:where{beginning|end}', async (c) => {
      const b = await body(c)
      consumers.seek(c.req.param('group'), c.req.param('id'), isObject(b) ? b.partitions : undefined, c.req.param('where') === 'beginning' ? 'earliest' : 'latest')
      return c.body(null, 204)
    })

    // Groups, with their lag.
    .get('/groups', (c) => {
      const groups = broker.groups().map((id) => {
        const d = describeGroup(id)
        return { group: id, mode: d.mode, state: d.state, generation: d.generation, members: d.members.length, lag: d.lag }
      })
      return c.json({ groups })
    })
    .get('/groups/:group', (c) => c.json(describeGroup(c.req.param('group'))))

  const partitionOf = (c: Context) => {
    const topic = c.req.param('topic')!
    const text = c.req.param('partition')!
    const partition = Number(text)
    if (!/^\d+$/.test(text)) throw new PubsubError('INVALID_PARTITION', `partition: expected an integer, got ${JSON.stringify(text)}`)
    broker.log(topic, partition)
    return { topic, partition }
  }
  const partitionInfo = (c: Context) => {
    const { topic, partition } = partitionOf(c)
    return describeTopic(topic).partitions[partition]!
  }

  return app
}

/** An integer query parameter, at least `min`; `fallback` when absent. */
function intQuery(c: Context, name: string, fallback: number, min: number): number {
  const text = c.req.query(name)
  if (text === undefined || text === '') return fallback
  const value = Number(text)
  if (!/^-?\d+$/.test(text) || value < min) {
    throw new PubsubError('INVALID_ARGUMENT', `${name}: expected an integer${min > -Infinity ? ` >= ${min}` : ''}, got ${JSON.stringify(text)}`)
  }
  return value
}
