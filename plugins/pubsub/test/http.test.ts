// The HTTP JSON transport (REST Proxy v2 shape) on a real kernel: produce and fetch with keys,
// headers and bytes, consumer instances with long-poll, commits and lag, a stale generation's
// commit, and every bad input answered with a named 4xx while the broker goes on.
import { join } from 'node:path'
import { startTestKernel, waitFor, type TestKernel } from '@armature/testing'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { readJson } from '@armature/core'
import { Broker, keyPartition } from '../src/index.ts'
import { pubsubHttp } from '../src/http/app.ts'
import { ConsumerInstances } from '../src/http/consumer-instances.ts'
import { IngressGate } from '../src/ingress-gate.ts'

const PLUGIN = join(import.meta.dirname, '..')
const k: TestKernel = await startTestKernel({
  plugins: [PLUGIN],
  env: { GRPC_PORT: '0', PUBSUB_AUTO_CREATE_TOPICS: 'false', PUBSUB_MAX_RECORD_BYTES: '2048', PUBSUB_MAX_BATCH_BYTES: '8192' },
})
const broker = k.kernel.slots.get('pubsub')!.current!.api as Broker
const api = `${k.url}/pubsub`

async function call(method: string, path: string, body?: unknown, raw?: string): Promise<{ status: number; json: any }> {
  const res = await fetch(`${api}${path}`, {
    method,
    ...(body !== undefined || raw !== undefined ? { body: raw ?? JSON.stringify(body), headers: { 'content-type': 'application/vnd.kafka.json.v2+json' } } : {}),
  })
  const text = await res.text()
  return { status: res.status, json: text ? JSON.parse(text) : undefined }
}

const ok = async (method: string, path: string, body?: unknown) => {
  const r = await call(method, path, body)
  assert.ok(r.status < 300, `${method} ${path}: ${r.status} ${JSON.stringify(r.json)}`)
  return r.json
}

test('topics are created, listed and described; produce answers offsets; keys, headers and bytes come back', async () => {
  const created = await ok('POST', '/topics', { name: 'orders-http', partitions: 3 })
  assert.is(created.partitions.length, 3)
  assert.ok((await ok('GET', '/topics')).includes('orders-http'))
  const keys = ['alpha', 'beta', 'gamma', 'delta', 'epsilon']
  const produced = await ok('POST', '/topics/orders-http', { records: keys.map((key, i) => ({ key, value: { n: i }, headers: { 'x-n': String(i) } })) })
  assert.is(produced.offsets.length, 5)
  produced.offsets.forEach((o: { partition: number }, i: number) => assert.is(o.partition, keyPartition(Buffer.from(keys[i]!), 3), `key ${keys[i]} lands as Kafka puts it`))
  const bytes = Buffer.from([0, 255, 1, 254, 128])
  const [binary] = (await ok('POST', '/topics/orders-http/partitions/1', { records: [{ valueBase64: bytes.toString('base64') }] })).offsets
  assert.is(binary.partition, 1)
  const fetched = await ok('GET', `/topics/orders-http/partitions/1/records?offset=${binary.offset}`)
  assert.is(fetched[0].valueBase64, bytes.toString('base64'), 'bytes that are not UTF-8 come back as valueBase64')
  assert.is(fetched[0].value, undefined)
  const first = produced.offsets[0]
  const [alpha] = await ok('GET', `/topics/orders-http/partitions/${first.partition}/records?offset=${first.offset}&max_messages=1`)
  assert.equal([alpha.key, alpha.value, alpha.headers['x-n']], ['alpha', '{"n":0}', '0'])
  const described = await ok('GET', '/topics/orders-http')
  const ends = described.partitions.reduce((n: number, p: { end_offset: number }) => n + p.end_offset, 0)
  assert.is(ends, 6)
  assert.equal(await ok('GET', '/topics/orders-http/partitions/1/offsets'), { beginning_offset: 0, end_offset: described.partitions[1].end_offset })
})

test('a consumer instance subscribes, long-polls, commits; the group shows its lag', async () => {
  await ok('POST', '/topics', { name: 'feed-http', partitions: 2 })
  await ok('POST', '/topics/feed-http', {
    records: [
      { value: 'a', partition: 0 },
      { value: 'b', partition: 1 },
    ],
  })
  const { instance_id, base_uri } = await ok('POST', '/consumers/readers', { 'auto.offset.reset': 'earliest' })
  assert.is(base_uri, `${api}/consumers/readers/instances/${instance_id}`)
  const path = `/consumers/readers/instances/${instance_id}`
  await ok('POST', `${path}/subscription`, { topics: ['feed-http'] })
  assert.equal((await ok('GET', `${path}/subscription`)).topics, ['feed-http'])
  const first = await ok('GET', `${path}/records?timeout=2000`)
  assert.equal(first.map((r: { value: string }) => r.value).sort(), ['a', 'b'])
  const groups = (await ok('GET', '/groups')).groups
  assert.is(groups.find((g: { group: string }) => g.group === 'readers').lag, 2, 'nothing committed yet')

  // A long poll answers as soon as a record arrives.
  const polling = ok('GET', `${path}/records?timeout=10000`)
  await waitFor(() => broker.log('feed-http', 0).waiting > 0, { what: 'the long poll to wait on the partition' })
  await ok('POST', '/topics/feed-http/partitions/0', { records: [{ value: 'c' }] })
  const second = await polling
  assert.equal(
    second.map((r: { value: string }) => r.value),
    ['c'],
  )
  await ok('POST', `${path}/offsets`, { offsets: [{ topic: 'feed-http', partition: 0, offset: 1 }] })
  assert.is(broker.group('readers').committed('feed-http', 0), 2, 'the committed offset is the one after the last processed')
  await ok('POST', `${path}/offsets`)
  assert.is(broker.group('readers').committed('feed-http', 1), 1, 'no body commits every fetched position')
  const described = await ok('GET', '/groups/readers')
  assert.is(described.lag, 0)
  assert.is(described.members.length, 1)
  assert.equal(
    (await ok('GET', `${path}/offsets`)).offsets.map((o: { offset: number }) => o.offset),
    [2, 1],
  )
  // Seek back: the records come again.
  await ok('POST', `${path}/positions/beginning`, { partitions: [{ topic: 'feed-http', partition: 0 }] })
  const again = await ok('GET', `${path}/records?timeout=2000`)
  assert.equal(
    again.map((r: { value: string }) => r.value),
    ['a', 'c'],
  )
  assert.is((await call('DELETE', path)).status, 204)
  assert.is(broker.group('readers').size, 0, 'the member left with its instance')
})

test('a commit of a generation the instance has not seen is ILLEGAL_GENERATION; after a fetch it commits', async () => {
  await ok('POST', '/topics', { name: 'gen-http', partitions: 2 })
  await ok('POST', '/topics/gen-http', {
    records: [
      { value: 'x', partition: 0 },
      { value: 'y', partition: 1 },
    ],
  })
  const a = `/consumers/gen/instances/${(await ok('POST', '/consumers/gen', {})).instance_id}`
  await ok('POST', `${a}/subscription`, { topics: ['gen-http'] })
  const records = await ok('GET', `${a}/records?timeout=2000`)
  assert.is(records.length, 2)
  const b = `/consumers/gen/instances/${(await ok('POST', '/consumers/gen', {})).instance_id}`
  await ok('POST', `${b}/subscription`, { topics: ['gen-http'] })
  const stale = await call('POST', `${a}/offsets`, { offsets: [{ topic: 'gen-http', partition: 0, offset: 0 }] })
  assert.is(stale.status, 409)
  assert.is(stale.json.error_code, 'ILLEGAL_GENERATION')
  await ok('GET', `${a}/records?timeout=0`)
  const held = (await ok('GET', `${a}/assignments`)).partitions
  assert.is(held.length, 1, 'a gave one partition to b')
  await ok('POST', `${a}/offsets`, { offsets: [{ ...held[0], offset: 0 }] })
  await ok('GET', `${b}/records?timeout=0`)
  assert.is((await ok('GET', `${b}/assignments`)).partitions.length, 1)
})

test('bad input: a named error and a 4xx each; the broker goes on with its records intact', async () => {
  await ok('POST', '/topics', { name: 'strict-http', partitions: 2 })
  await ok('POST', '/topics/strict-http', { records: [{ value: 'kept', partition: 0 }] })
  const consumer = `/consumers/bad/instances/${(await ok('POST', '/consumers/bad', {})).instance_id}`
  await ok('POST', `${consumer}/subscription`, { topics: ['strict-http'] })
  await ok('GET', `${consumer}/records?timeout=0`)
  const cases: Array<[string, string, string, unknown, number, string, string?]> = [
    ['unknown topic (auto-create off)', 'POST', '/topics/nope-http', { records: [{ value: 'x' }] }, 404, 'UNKNOWN_TOPIC'],
    ['partition beyond the topic', 'POST', '/topics/strict-http', { records: [{ value: 'x', partition: 7 }] }, 422, 'INVALID_PARTITION'],
    ['a partition that is no number', 'GET', '/topics/strict-http/partitions/x/records', undefined, 422, 'INVALID_PARTITION'],
    ['negative offset', 'GET', '/topics/strict-http/partitions/0/records?offset=-1', undefined, 416, 'OFFSET_OUT_OF_RANGE'],
    ['future offset', 'GET', '/topics/strict-http/partitions/0/records?offset=99', undefined, 416, 'OFFSET_OUT_OF_RANGE'],
    ['future commit', 'POST', `${consumer}/offsets`, { offsets: [{ topic: 'strict-http', partition: 0, offset: 99 }] }, 416, 'OFFSET_OUT_OF_RANGE'],
    ['future seek', 'POST', `${consumer}/positions`, { offsets: [{ topic: 'strict-http', partition: 0, offset: 99 }] }, 416, 'OFFSET_OUT_OF_RANGE'],
    ['record over maxRecordBytes', 'POST', '/topics/strict-http', { records: [{ value: 'x'.repeat(3000) }] }, 413, 'RECORD_TOO_LARGE'],
    ['batch over maxBatchBytes', 'POST', '/topics/strict-http', { records: Array.from({ length: 8 }, () => ({ value: 'y'.repeat(1500) })) }, 413, 'BATCH_TOO_LARGE'],
    ['malformed JSON', 'POST', '/topics/strict-http', undefined, 400, 'MALFORMED', '{"records": [{"value": '],
    ['no records array', 'POST', '/topics/strict-http', { value: 'x' }, 400, 'MALFORMED'],
    ['bad base64', 'POST', '/topics/strict-http', { records: [{ valueBase64: 'not base64!' }] }, 400, 'MALFORMED'],
    ['unknown consumer instance', 'GET', '/consumers/bad/instances/nobody/records', undefined, 404, 'UNKNOWN_MEMBER'],
    ['unknown group', 'GET', '/groups/no-such-group', undefined, 404, 'UNKNOWN_GROUP'],
    ['bad reset policy', 'POST', '/consumers/bad', { 'auto.offset.reset': 'middle' }, 422, 'INVALID_ARGUMENT'],
  ]
  for (const [what, method, path, body, status, code, raw] of cases) {
    const r = await call(method, path, body, raw)
    assert.is(r.status, status, `${what}: ${JSON.stringify(r.json)}`)
    assert.is(r.json.error_code, code, what)
    assert.ok(r.json.error.length > code.length, `${what} says what is wrong`)
  }
  assert.is(broker.log('strict-http', 0).endOffset + broker.log('strict-http', 1).endOffset, 1, 'nothing of the refused produces was stored')
  assert.not.ok(broker.hasTopic('nope-http'))
  // The broker goes on.
  await ok('POST', '/topics/strict-http', { records: [{ value: 'after', partition: 0 }] })
  const records = await ok('GET', '/topics/strict-http/partitions/0/records?offset=0')
  assert.equal(
    records.map((r: { value: string }) => r.value),
    ['kept', 'after'],
  )
})

test('an instance silent past its session timeout is gone: UNKNOWN_MEMBER', async () => {
  await ok('POST', '/topics', { name: 'quiet-http', partitions: 1 })
  const path = `/consumers/quiet/instances/${(await ok('POST', '/consumers/quiet', { 'session.timeout.ms': 300 })).instance_id}`
  await ok('POST', `${path}/subscription`, { topics: ['quiet-http'] })
  await ok('GET', `${path}/records?timeout=0`)
  await waitFor(() => broker.group('quiet').size === 0, { what: 'the session to time out' })
  const gone = await call('POST', `${path}/offsets`)
  assert.is(gone.status, 404)
  assert.is(gone.json.error_code, 'UNKNOWN_MEMBER')
})

test('instances are counted in a metric and bounded by httpMaxConsumers (BROKER_FULL, retriable)', async () => {
  const { instance_id } = await ok('POST', '/consumers/counted', {})
  const metric = async () => Number(/^armature_pubsub_http_consumers (\d+)$/m.exec(await (await fetch(`${k.url}/metrics`)).text())?.[1] ?? -1)
  const counted = await waitFor(async () => Math.max(0, await metric()), { what: 'the gauge to count the instance' })
  await ok('DELETE', `/consumers/counted/instances/${instance_id}`)
  await waitFor(async () => (await metric()) === counted - 1, { what: 'the gauge to drop the deleted instance' })

  const local = new Broker()
  const consumers = new ConsumerInstances(local, 2)
  const app = pubsubHttp(local, { readJson, base: '/pubsub', gate: new IngressGate(), consumers, maxBodyBytes: 1_048_576, consumerTimeoutMs: 10_000 })
  try {
    const create = () => app.request('/consumers/full', { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } })
    assert.is((await create()).status, 200)
    assert.is((await create()).status, 200)
    const third = await create()
    assert.is(third.status, 503)
    assert.equal(((await third.json()) as { error_code: string; retriable: boolean }).error_code, 'BROKER_FULL')
  } finally {
    consumers.close()
    await local.close()
  }
})

test('a plugin reload keeps consumer instances, their positions and the records', async () => {
  await ok('POST', '/topics', { name: 'reload-http', partitions: 1 })
  await ok('POST', '/topics/reload-http', { records: [{ value: 'one' }, { value: 'two' }] })
  const path = `/consumers/reload/instances/${(await ok('POST', '/consumers/reload', {})).instance_id}`
  await ok('POST', `${path}/subscription`, { topics: ['reload-http'] })
  assert.is((await ok('GET', `${path}/records?timeout=2000&max_messages=1`))[0].value, 'one')
  assert.is((await k.kernel.reload('pubsub', { force: true })).status, 'swapped')
  assert.is((await ok('GET', `${path}/records?timeout=2000`))[0].value, 'two', 'the instance goes on where it was')
  await ok('POST', `${path}/offsets`)
  assert.is(broker.group('reload').committed('reload-http', 0), 2)
  await ok('POST', '/topics/reload-http', { records: [{ value: 'three' }] })
  assert.is((await ok('GET', `${path}/records?timeout=2000`))[0].value, 'three')
})

test('once the door closed (Ingress), produce and new consumers are refused with STOPPING, and polls answer at once', async () => {
  const local = new Broker()
  const gate = new IngressGate()
  const consumers = new ConsumerInstances(local)
  const app = pubsubHttp(local, { readJson, base: '/pubsub', gate, consumers, maxBodyBytes: 1_048_576, consumerTimeoutMs: 10_000 })
  const send = (method: string, path: string, body?: unknown) =>
    app.request(path, { method, ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }) })
  try {
    assert.is((await send('POST', '/topics/door', { records: [{ value: 'in' }] })).status, 200)
    const { instance_id } = (await (await send('POST', '/consumers/door-g', {})).json()) as { instance_id: string }
    assert.is((await send('POST', `/consumers/door-g/instances/${instance_id}/subscription`, { topics: ['door'] })).status, 204)
    assert.is(((await (await send('GET', `/consumers/door-g/instances/${instance_id}/records?timeout=0`)).json()) as unknown[]).length, 1)
    const polling = send('GET', `/consumers/door-g/instances/${instance_id}/records?timeout=60000`)
    gate.close()
    assert.equal(await (await polling).json(), [], 'the long poll answered when the door closed')
    for (const [method, path, body] of [
      ['POST', '/topics/door', { records: [{ value: 'late' }] }],
      ['POST', '/consumers/door-g', {}],
      ['POST', `/consumers/door-g/instances/${instance_id}/subscription`, { topics: ['door'] }],
    ] as const) {
      const res = await send(method, path, body)
      assert.is(res.status, 503, path)
      assert.is(res.headers.get('retry-after'), '1')
      const json = (await res.json()) as { error_code: string; retriable: boolean }
      assert.equal([json.error_code, json.retriable], ['STOPPING', true])
    }
    assert.is(local.log('door', 0).endOffset, 1, 'nothing appended after the door closed')
    assert.is((await send('POST', `/consumers/door-g/instances/${instance_id}/offsets`)).status, 204, 'commits still count')
    assert.is(local.group('door-g').committed('door', 0), 1)
  } finally {
    consumers.close()
    await local.close()
  }
})

test.after(async () => {
  await k.stop()
})

test.run()
