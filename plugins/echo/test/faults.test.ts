// Cut connections on purpose: gRPC clients see UNAVAILABLE, AMQP consumers come back.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { randomUUID } from 'node:crypto'
import * as grpc from '@grpc/grpc-js'
import amqp from 'amqplib'
import { startTcpProxy, startTestKernel, waitFor } from '@armature/testing'
import { ECHO_DIR, echoClient, serverStream, unary } from './support.ts'

const AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672'

test('a cut gRPC connection: streams and calls end with UNAVAILABLE, not a hang', async () => {
  const k = await startTestKernel({ plugins: [ECHO_DIR], env: { GRPC_PORT: '0' } })
  const proxy = await startTcpProxy({ host: '127.0.0.1', port: k.kernel.addresses.grpc! })
  const client = echoClient(`127.0.0.1:${proxy.port}`)
  try {
    assert.is((await unary(client, 'before')).message, 'before')
    const stream = serverStream(client, { message: 'tick', repeat: 100_000, interval_ms: 20 })
    await waitFor(() => stream.messages.length > 2, { what: 'the stream to flow' })
    proxy.cut()
    const status = await stream.done
    assert.is(status.code, grpc.status.UNAVAILABLE)
    const code = await unary(client, 'during', 3000).then(
      () => 'answered',
      (e: grpc.ServiceError) => e.code,
    )
    assert.is(code, grpc.status.UNAVAILABLE)
    proxy.restore()
    const after = await waitFor(() => unary(client, 'after', 2000).catch(() => undefined), { what: 'calls to work again', timeoutMs: 15_000 })
    assert.is(after.message, 'after')
  } finally {
    client.close()
    await proxy.close()
    await k.stop()
  }
})

test('a cut AMQP connection: the echo consumer re-attaches and every request is answered', async () => {
  const [host, port] = ['127.0.0.1', Number(new URL(AMQP_URL).port || 5672)]
  const proxy = await startTcpProxy({ host, port })
  const proxied = new URL(AMQP_URL)
  proxied.port = String(proxy.port)
  const queue = `armature-test-echo-${randomUUID()}`
  const k = await startTestKernel({ plugins: [ECHO_DIR], env: { GRPC_PORT: '0', AMQP_URL: proxied.href, ECHO_REQUEST_QUEUE: queue, ECHO_WORK_MS: '5' } })
  const connection = await amqp.connect(AMQP_URL)
  const channel = await connection.createConfirmChannel()
  try {
    const { queue: replyQueue } = await channel.assertQueue('', { exclusive: true })
    const replies = new Set<string>()
    await channel.consume(replyQueue, (m) => m && replies.add(String(m.properties.correlationId)), { noAck: true })
    const send = async (from: number, to: number) => {
      for (let i = from; i < to; i++) channel.sendToQueue(queue, Buffer.from(`m${i}`), { replyTo: replyQueue, correlationId: `m${i}`, persistent: true })
      await channel.waitForConfirms()
    }
    await send(0, 100)
    await waitFor(() => replies.size >= 20, { what: 'some replies before the cut' })
    proxy.cut()
    await send(100, 200)
    proxy.restore()
    await waitFor(() => replies.size === 200, { what: 'every request answered after the cut', timeoutMs: 30_000 })
    assert.is(replies.size, 200)
  } finally {
    await channel.deleteQueue(queue).catch(() => undefined)
    await channel.deleteQueue(`${queue}.dead`).catch(() => undefined)
    await connection.close()
    await k.stop()
    await proxy.close()
  }
})

test.run()
