// A stop at Ingress: an open ProduceStream's next produce is refused with STOPPING, push
// streams (gRPC Subscribe, WebSocket) send nothing more even when acks make room, and what they
// delivered without an acknowledgement is delivered again after a restart (file storage); an
// HTTP long poll answers at once instead of holding the stop.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startTestKernel, waitFor } from '@armature/testing'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { WebSocket } from 'ws'
import { PubsubConnection, type Broker } from '../src/index.ts'

const PLUGIN = join(import.meta.dirname, '..')
const dataDir = mkdtempSync(join(tmpdir(), 'armature-pubsub-stop-'))
const start = () => startTestKernel({ plugins: [PLUGIN], env: { GRPC_PORT: '0', DATA_DIR: dataDir, PUBSUB_STORAGE: 'file', PUBSUB_FSYNC: 'always', SHUTDOWN_TIMEOUT_MS: '8000' } })

interface Delivery {
  topic: string
  partition: number
  record: { offset: string }
}

function subscribeGrpc(connection: PubsubConnection, group: string, maxAckPending: number) {
  const stream = connection.raw.Subscribe()
  const deliveries: Delivery[] = []
  let ended: string | undefined
  stream.on('data', (reply: { deliveries?: Delivery[] }) => deliveries.push(...(reply.deliveries ?? [])))
  stream.on('error', (error: Error) => (ended = error.message))
  stream.on('end', () => (ended ??= 'end'))
  stream.write({ join: { group, topics: ['stop-t'], session_timeout_ms: 10_000 }, push: { max_ack_pending: maxAckPending, ack_wait_ms: 0, max_deliveries: 0 } })
  return {
    deliveries,
    ended: () => ended,
    ack: (offsets: number[]) => stream.write({ acks: offsets.map((offset) => ({ topic: 'stop-t', partition: 0, offset })) }),
    end: () => stream.end(),
  }
}

test('at Ingress produce and push stop; unacknowledged records come again after the restart', async () => {
  const first = await start()
  const broker = first.kernel.slots.get('pubsub')!.current!.api as Broker
  const res = await fetch(`${first.url}/pubsub/topics/stop-t`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ records: Array.from({ length: 10 }, (_, i) => ({ value: `v${i}` })) }),
  })
  assert.is(res.status, 200)
  const connection = new PubsubConnection(`grpc://127.0.0.1:${first.kernel.addresses.grpc}`)
  const push = subscribeGrpc(connection, 'stop-grpc', 4)
  await waitFor(() => push.deliveries.length === 4, { what: 'four deliveries' })
  push.ack([0, 1])
  await waitFor(() => broker.group('stop-grpc').committed('stop-t', 0) === 2, { what: 'two acks' })
  await waitFor(() => push.deliveries.length === 6, { what: 'two more deliveries for the room the acks made' })

  const produceStream = connection.raw.ProduceStream()
  const replies: Array<{ id: string; error_code: string; offsets: unknown[] }> = []
  produceStream.on('data', (reply: (typeof replies)[number]) => replies.push(reply))
  produceStream.on('error', () => undefined)
  produceStream.write({ id: 1, topic: 'stop-t', records: [{ value: Buffer.from('before the stop') }] })
  await waitFor(() => replies.length === 1, { what: 'the first produce' })
  assert.is(replies[0]!.error_code, '')

  const ws = new WebSocket(`${first.url.replace('http', 'ws')}/pubsub/ws`)
  const wsRecords: number[] = []
  ws.on('message', (data) => {
    const frame = JSON.parse(String(data))
    if (frame.type === 'records') wsRecords.push(...frame.records.map((r: { offset: number }) => r.offset))
  })
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject))
  const wsClosed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)))
  ws.send(JSON.stringify({ type: 'subscribe', group: 'stop-ws', topics: ['stop-t'], maxAckPending: 3, ackWaitMs: 0 }))
  await waitFor(() => wsRecords.length === 3, { what: 'three records on the socket' })

  // An HTTP consumer's long poll on a topic with nothing new.
  const post = (path: string, body: unknown) =>
    fetch(`${first.url}/pubsub${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then((r) => r.json() as Promise<any>)
  const { base_uri } = await post('/consumers/stop-http', {})
  await fetch(`${base_uri}/subscription`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ topics: ['stop-idle'] }) })
  const generation = first.kernel.slots.get('pubsub')!.current! as unknown as { inflight: number }
  const before = generation.inflight
  const polling = fetch(`${base_uri}/records?timeout=30000`)
  await waitFor(() => generation.inflight > before, { what: 'the long poll to be in flight' })

  const stopped = first.stop()
  // The door closes at Ingress: the push member is paused.
  await waitFor(() => broker.group('stop-grpc').describe(Date.now()).members[0]?.paused, { what: 'the push member to pause' })
  push.ack([2, 3])
  await waitFor(() => broker.group('stop-grpc').committed('stop-t', 0) === 4, { what: 'acks during the stop to count' })
  produceStream.write({ id: 2, topic: 'stop-t', records: [{ value: Buffer.from('during the stop') }] })
  await waitFor(() => replies.length === 2, { what: 'the refused produce' })
  assert.is(replies[1]!.error_code, 'STOPPING')
  assert.is(await wsClosed, 1001)
  const answered = await polling
  assert.is(answered.status, 200, 'the long poll answered at Ingress instead of running into the deadline')
  assert.equal(await answered.json(), [])
  await waitFor(() => push.ended(), { what: 'the Subscribe stream to end' })
  assert.is(push.deliveries.length, 6, 'nothing was sent after the acks made room')
  await stopped
  connection.close()

  const second = await start()
  try {
    const again = second.kernel.slots.get('pubsub')!.current!.api as Broker
    assert.is(again.log('stop-t', 0).endOffset, 11, 'the produce refused while stopping was not stored')
    const connection2 = new PubsubConnection(`grpc://127.0.0.1:${second.kernel.addresses.grpc}`)
    const resumed = subscribeGrpc(connection2, 'stop-grpc', 100)
    await waitFor(() => resumed.deliveries.length === 7, { what: 'the rest of the records' })
    assert.equal(
      resumed.deliveries.map((d) => Number(d.record.offset)),
      [4, 5, 6, 7, 8, 9, 10],
      'acknowledged records are not delivered again; the others are',
    )
    const ws2 = new WebSocket(`${second.url.replace('http', 'ws')}/pubsub/ws`)
    const redelivered: number[] = []
    ws2.on('message', (data) => {
      const frame = JSON.parse(String(data))
      if (frame.type === 'records') redelivered.push(...frame.records.map((r: { offset: number }) => r.offset))
    })
    await new Promise((resolve, reject) => ws2.once('open', resolve).once('error', reject))
    ws2.send(JSON.stringify({ type: 'subscribe', group: 'stop-ws', topics: ['stop-t'], maxAckPending: 3 }))
    await waitFor(() => redelivered.length === 3, { what: 'the socket group records' })
    assert.equal(redelivered, [0, 1, 2], 'the records the socket held unacknowledged come again')
    ws2.close()
    resumed.end()
    connection2.close()
  } finally {
    await second.stop()
  }
})

test.run()
