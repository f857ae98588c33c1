// WebSocket push at /pubsub/ws on a real kernel: flow control by maxAckPending, acks move the
// committed offset, a closed socket's unacknowledged records go to the next member, bad frames
// are answered and the socket goes on.
import { join } from 'node:path'
import { startTestKernel, waitFor, type TestKernel } from '@armature/testing'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { WebSocket } from 'ws'
import type { Broker } from '../src/index.ts'

const PLUGIN = join(import.meta.dirname, '..')
const k: TestKernel = await startTestKernel({ plugins: [PLUGIN], env: { GRPC_PORT: '0' } })
const broker = k.kernel.slots.get('pubsub')!.current!.api as Broker

interface Frame {
  type: string
  records?: Array<{ topic: string; partition: number; offset: number; value: string; deliveries: number }>
  error_code?: string
  memberId?: string
}

class Client {
  readonly frames: Frame[] = []
  readonly socket: WebSocket
  constructor() {
    this.socket = new WebSocket(`${k.url.replace('http', 'ws')}/pubsub/ws`)
    this.socket.on('message', (data) => this.frames.push(JSON.parse(String(data)) as Frame))
  }
  open(): Promise<void> {
    return new Promise((resolve, reject) => this.socket.once('open', () => resolve()).once('error', reject))
  }
  send(message: unknown): void {
    this.socket.send(typeof message === 'string' ? message : JSON.stringify(message))
  }
  records() {
    return this.frames.flatMap((f) => (f.type === 'records' ? f.records! : []))
  }
  errors() {
    return this.frames.filter((f) => f.type === 'error').map((f) => f.error_code)
  }
  /** Waits for the answer to a bad frame: everything the server sent before it has arrived. */
  async barrier(): Promise<void> {
    const before = this.errors().length
    this.send({ type: 'barrier' })
    await waitFor(() => this.errors().length > before, { what: 'the error frame' })
  }
  async subscribe(group: string, topic: string, maxAckPending: number): Promise<void> {
    const errors = this.errors().length
    this.send({ type: 'subscribe', group, topics: [topic], maxAckPending, ackWaitMs: 0 })
    await waitFor(() => this.frames.some((f) => f.type === 'subscribed') || this.errors().length > errors, { what: 'the subscription' })
    assert.ok(
      this.frames.some((f) => f.type === 'subscribed'),
      JSON.stringify(this.frames),
    )
  }
  ack(records: Array<{ topic: string; partition: number; offset: number }>): void {
    this.send({ type: 'ack', records: records.map(({ topic, partition, offset }) => ({ topic, partition, offset })) })
  }
  close(): void {
    this.socket.close()
  }
}

const produce = async (topic: string, values: string[]) => {
  const res = await fetch(`${k.url}/pubsub/topics/${topic}`, {
    method: 'POST',
    body: JSON.stringify({ records: values.map((value) => ({ value })) }),
    headers: { 'content-type': 'application/json' },
  })
  assert.is(res.status, 200, await res.text())
}

test('a member holds at most maxAckPending; each ack lets the next record out, in order', async () => {
  await produce(
    'ws-flow',
    Array.from({ length: 10 }, (_, i) => `v${i}`),
  )
  const c = new Client()
  await c.open()
  await c.subscribe('ws-flow-g', 'ws-flow', 3)
  await waitFor(() => c.records().length === 3, { what: 'three records' })
  await c.barrier()
  assert.is(c.records().length, 3, 'no more than maxAckPending out')
  const member = broker.group('ws-flow-g').describe(Date.now()).members[0]!
  assert.equal([member.ackPending, member.saturated], [3, true])
  for (let acked = 0; acked < 10;) {
    const batch = c.records().slice(acked)
    assert.ok(batch.length <= 3)
    c.ack(batch)
    acked += batch.length
    if (acked < 10) await waitFor(() => c.records().length > acked, { what: 'the next records' })
  }
  assert.equal(
    c.records().map((r) => r.value),
    Array.from({ length: 10 }, (_, i) => `v${i}`),
  )
  await waitFor(() => broker.group('ws-flow-g').committed('ws-flow', 0) === 10, { what: 'the committed offset to reach the end' })
  c.close()
})

test('a closed socket leaves: its unacknowledged records go to the next member', async () => {
  await produce('ws-handover', ['a', 'b', 'c', 'd'])
  const first = new Client()
  await first.open()
  await first.subscribe('ws-handover-g', 'ws-handover', 10)
  await waitFor(() => first.records().length === 4, { what: 'the records' })
  first.ack(first.records().slice(0, 2))
  await waitFor(() => broker.group('ws-handover-g').committed('ws-handover', 0) === 2, { what: 'two acks' })
  first.close()
  await waitFor(() => broker.group('ws-handover-g').size === 0, { what: 'the member to leave' })
  const second = new Client()
  await second.open()
  await second.subscribe('ws-handover-g', 'ws-handover', 10)
  await waitFor(() => second.records().length === 2, { what: 'the redelivery' })
  assert.equal(
    second.records().map((r) => [r.value, r.deliveries]),
    [
      ['c', 2],
      ['d', 2],
    ],
  )
  second.close()
})

test('a socket that stops reading holds the sends back: nothing piles up past the kernel cap, all arrives once it reads', async () => {
  // 200 records of 100 kB: 20 MB, past WS_MAX_BUFFERED_BYTES (8 MiB) if sent without waiting.
  const value = 'x'.repeat(100_000)
  for (let i = 0; i < 10; i++)
    await produce(
      'ws-slow',
      Array.from({ length: 20 }, () => value),
    )
  const c = new Client()
  await c.open()
  const tcp = (c.socket as unknown as { _socket: { pause(): void; resume(): void } })._socket
  tcp.pause()
  let closedWith: number | undefined
  c.socket.on('close', (code) => (closedWith = code))
  c.send({ type: 'subscribe', group: 'ws-slow-g', topics: ['ws-slow'], maxAckPending: 200, ackWaitMs: 0 })
  await waitFor(() => broker.group('ws-slow-g').describe(Date.now()).members[0]?.ackPending === 200, { what: 'the window to be delivered to the session' })
  // By now a server that sent without waiting would have passed the cap (the session flushes at once).
  tcp.resume()
  await waitFor(() => c.records().length === 200, { what: 'every record once the client reads', timeoutMs: 20_000 })
  assert.is(closedWith, undefined, 'the socket was not closed for not reading')
  assert.ok(
    c.frames.filter((f) => f.type === 'records').every((f) => f.records!.length <= 11),
    'frames of about 1 MiB',
  )
  c.close()
})

test('bad frames are answered with named errors and the socket goes on', async () => {
  const c = new Client()
  await c.open()
  c.send('{not json')
  c.socket.send(Buffer.from([1, 2, 3]), { binary: true })
  c.send({ type: 'ack', records: [{ topic: 't', partition: 0, offset: 0 }] })
  c.send({ type: 'subscribe', group: 'ws-bad', topics: ['ws-bad'], maxAckPending: 0 })
  c.send({ type: 'subscribe', group: 'bad group!', topics: ['ws-bad'] })
  c.send({ type: 'subscribe', group: 'ws-bad', topics: [] })
  await waitFor(() => c.errors().length === 6, { what: 'six errors' })
  assert.equal(c.errors(), ['MALFORMED', 'MALFORMED', 'INVALID_ARGUMENT', 'INVALID_ARGUMENT', 'INVALID_ARGUMENT', 'INVALID_ARGUMENT'])
  await produce('ws-bad', ['still'])
  await c.subscribe('ws-bad', 'ws-bad', 5)
  await waitFor(() => c.records().length === 1, { what: 'a record after the bad frames' })
  c.send({ type: 'ack', records: [{ topic: 'ws-bad', partition: 'zero', offset: 0 }] })
  await waitFor(() => c.errors().length === 7, { what: 'the malformed ack' })
  assert.is(c.errors()[6], 'MALFORMED')
  c.close()
})

test.after(async () => {
  await k.stop()
})

test.run()
