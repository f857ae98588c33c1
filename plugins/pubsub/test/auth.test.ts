// PUBSUB_TOKEN on a real kernel: every transport refuses a call without the token or with a
// wrong one (gRPC UNAUTHENTICATED, HTTP 401, WebSocket closed with 1008), and serves one with it;
// the client, the remote queue backend and the CLI send it.
import { join } from 'node:path'
import { startTestKernel, type TestKernel } from '@armature/testing'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { WebSocket } from 'ws'
import { runCli } from '../src/cli/run.ts'
import { Producer, PubsubConnection, RemotePushBroker } from '../src/client/index.ts'
import { PubsubError } from '../src/index.ts'

const TOKEN = 's3cret-token'
const k: TestKernel = await startTestKernel({ plugins: [join(import.meta.dirname, '..')], env: { GRPC_PORT: '0', PUBSUB_TOKEN: TOKEN } })
const grpcUrl = `grpc://127.0.0.1:${k.kernel.addresses.grpc}`

const code = (error: unknown) => (error as { code?: number }).code

test('gRPC: a unary call and a stream without the token are UNAUTHENTICATED; with it they work', async () => {
  const none = new PubsubConnection(grpcUrl)
  const wrong = new PubsubConnection(grpcUrl, { token: 'nope' })
  const right = new PubsubConnection(grpcUrl, { token: TOKEN })
  try {
    for (const [connection, detail] of [
      [none, /missing bearer token/],
      [wrong, /wrong bearer token/],
    ] as const) {
      const refused = await connection.call('ListTopics', {}).catch((error: unknown) => error)
      assert.instance(refused, PubsubError)
      assert.is((refused as PubsubError).code, 'UNAUTHENTICATED')
      assert.match(String((refused as Error).message), detail)
    }
    const stream = none.raw.ProduceStream()
    const streamError = await new Promise<unknown>((resolve) => stream.on('error', resolve))
    assert.is(code(streamError), 16, 'a stream is ended UNAUTHENTICATED')

    const producer = new Producer(right, { createPartitions: 1 })
    const [sent] = await producer.send({ topic: 'auth', messages: [{ value: 'with the token' }] })
    await producer.close()
    const fetched = await right.call<{ records: Array<{ value: Buffer }> }>('Fetch', { topic: 'auth', partition: 0, offset: String(sent!.offset) })
    assert.is(fetched.records[0]!.value.toString(), 'with the token')
  } finally {
    none.close()
    wrong.close()
    right.close()
  }
})

test('HTTP: 401 without the token or with a wrong one, the topics with it', async () => {
  const missing = await fetch(`${k.url}/pubsub/topics`)
  assert.is(missing.status, 401)
  assert.is(missing.headers.get('www-authenticate'), 'Bearer')
  assert.is((await fetch(`${k.url}/pubsub/topics`, { headers: { authorization: 'Bearer nope' } })).status, 401)
  const ok = await fetch(`${k.url}/pubsub/topics`, { headers: { authorization: `Bearer ${TOKEN}` } })
  assert.is(ok.status, 200)
  assert.ok(((await ok.json()) as string[]).includes('auth'))
})

test('WebSocket: closed with 1008 without the token; with ?token= or the header it subscribes', async () => {
  const closed = await new Promise<{ code: number; reason: string }>((resolve) => {
    const socket = new WebSocket(`${k.url.replace('http', 'ws')}/pubsub/ws`)
    socket.on('close', (code, reason) => resolve({ code, reason: String(reason) }))
  })
  assert.is(closed.code, 1008)
  assert.match(closed.reason, /missing token/)
  for (const open of [
    () => new WebSocket(`${k.url.replace('http', 'ws')}/pubsub/ws?token=${TOKEN}`),
    () => new WebSocket(`${k.url.replace('http', 'ws')}/pubsub/ws`, { headers: { authorization: `Bearer ${TOKEN}` } }),
  ]) {
    const socket = open()
    const subscribed = await new Promise<{ type: string }>((resolve, reject) => {
      socket.once('open', () => socket.send(JSON.stringify({ type: 'subscribe', group: `ws-${Math.random()}`, topics: ['auth'], maxAckPending: 10, ackWaitMs: 0 })))
      socket.on('message', (data) => {
        const frame = JSON.parse(String(data)) as { type: string }
        if (frame.type === 'subscribed' || frame.type === 'error') resolve(frame)
      })
      socket.once('close', (code) => reject(new Error(`closed ${code}`)))
    })
    assert.is(subscribed.type, 'subscribed')
    socket.close()
  }
})

test('the remote queue backend and the CLI send the token; without it the CLI says what is missing', async () => {
  const remote = new RemotePushBroker(grpcUrl, { token: TOKEN })
  await remote.ensureTopic('auth-remote', 1)
  await remote.produce('auth-remote', [{ value: Buffer.from('remote'), headers: {} }])
  remote.close()
  const out: string[] = []
  const err: string[] = []
  const io = { out: (t: string) => void out.push(t), err: (t: string) => void err.push(t) }
  assert.is(await runCli(['topics', '--url', grpcUrl, '--token', TOKEN, '--json'], io), 0, err.join(''))
  assert.ok(out.join('').includes('auth-remote'))
  assert.not.equal(await runCli(['topics', '--url', grpcUrl], io), 0)
  assert.match(err.join(''), /missing bearer token/)
})

test.after(async () => {
  await k.stop()
})

test.run()
