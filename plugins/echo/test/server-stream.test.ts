// ServerStream against hostile requests: an unbounded repeat is refused, a client that stops
// reading is waited for (the kernel keeps answering) and its deadline ends the stream.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import * as grpc from '@grpc/grpc-js'
import { waitFor } from '@armature/testing'
import { echoClient, healthy, metric, spawnEcho, stopChild } from './support.ts'

let k: Awaited<ReturnType<typeof spawnEcho>>

test.before(async () => {
  k = await spawnEcho()
})
test.after(() => stopChild(k))

/** Sends `bytes` as the request message, as a client with another codec could. */
function rawServerStream(client: grpc.Client, bytes: Buffer): Promise<{ code: number; details: string; messages: number }> {
  const call = client.makeServerStreamRequest(
    '/armature.echo.Echo/ServerStream',
    (b: Buffer) => b,
    (b: Buffer) => b,
    bytes,
    { deadline: Date.now() + 10_000 },
  )
  let messages = 0
  call.on('data', () => messages++)
  call.on('error', () => undefined)
  return new Promise((resolve) => call.on('status', (s: grpc.StatusObject) => resolve({ code: s.code, details: s.details, messages })))
}

test('repeat = 2^32-1 with interval 0 answers INVALID_ARGUMENT naming the limit; /healthz keeps answering', async () => {
  const client = new grpc.Client(k.grpcAddress, grpc.credentials.createInsecure())
  try {
    // message "x", repeat 4294967295, interval_ms 0 (omitted)
    const status = await rawServerStream(client, Buffer.from('0a0178' + '10ffffffff0f', 'hex'))
    assert.is(status.code, grpc.status.INVALID_ARGUMENT, status.details)
    assert.match(status.details, /repeat 4294967295 .*100000.*ECHO_MAX_REPEAT/)
    assert.is(status.messages, 0)
    assert.ok(await healthy(k.url), '/healthz answers after the call')
    const interval = await rawServerStream(client, Buffer.from('0a0178' + '1001' + '18ffffffff0f', 'hex'))
    assert.is(interval.code, grpc.status.INVALID_ARGUMENT, interval.details)
    assert.match(interval.details, /interval_ms 4294967295 .*60000.*ECHO_MAX_INTERVAL_MS/)
  } finally {
    client.close()
  }
})

test('a client that stops reading: the stream waits, /healthz answers, the deadline ends the call', async () => {
  const client = echoClient(k.grpcAddress)
  try {
    const call = client.ServerStream({ message: 'x'.repeat(1000), repeat: 100_000, interval_ms: 0 }, { deadline: Date.now() + 4000 })
    let received = 0
    call.on('data', () => {
      // Stop reading after the first replies: the server's writes must wait, not pile up.
      if (++received === 10) call.pause()
    })
    call.on('error', () => undefined)
    const status = new Promise<grpc.StatusObject>((resolve) => call.on('status', resolve))
    await waitFor(() => received >= 10, { what: 'the first replies' })
    let answered = 0
    await waitFor(
      async () => {
        if (await healthy(k.url)) answered++
        return answered >= 5
      },
      { what: '/healthz to answer during the stream', timeoutMs: 3000, intervalMs: 100 },
    )
    assert.is((await status).code, grpc.status.DEADLINE_EXCEEDED)
    assert.ok(received < 100_000, `${received} replies reached a client that stopped reading`)
    // The server's loop stopped with the call: nothing of echo's is still in flight.
    await waitFor(async () => (await metric(k.url, 'armature_in_flight{plugin="echo"}')) === 0, { what: 'the stream to be released' })
    assert.ok(await healthy(k.url))
  } finally {
    client.close()
  }
})

test.run()
