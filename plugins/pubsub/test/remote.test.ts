// Over the wire: the queue port suite with every kernel reaching one broker in another kernel
// (PUBSUB_URL), the producer's idempotence across a cut connection, and gRPC refusals.
import { join } from 'node:path'
import * as grpc from '@grpc/grpc-js'
import { queuePortSuite, startTcpProxy, startTestKernel, type TestKernel } from '@armature/testing'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { PubsubConnection, PubsubError, Producer, type Broker } from '../src/index.ts'

const PLUGIN = join(import.meta.dirname, '..')
const brokerKernel: TestKernel = await startTestKernel({ plugins: [PLUGIN], env: { GRPC_PORT: '0' } })
const brokerUrl = `grpc://127.0.0.1:${brokerKernel.kernel.addresses.grpc}`
const broker = brokerKernel.kernel.slots.get('pubsub')!.current!.api as Broker

const suite = queuePortSuite((plugins) => startTestKernel({ plugins: [PLUGIN, ...plugins], env: { GRPC_PORT: '0', PUBSUB_URL: brokerUrl, PUBSUB_QUEUE_RETRY_DELAY_MS: '200' } }), {
  backend: 'pubsub',
  provider: 'pubsub',
})
suite.run()

test('two kernels share the broker: a message published in one is consumed in the other', async () => {
  const one = await startTestKernel({ plugins: [PLUGIN], env: { GRPC_PORT: '0', PUBSUB_URL: brokerUrl } })
  try {
    const described = (await (await fetch(`${one.url}/_armature/plugins`)).json()) as { queue: { details: { broker: string } } }
    assert.is(described.queue.details.broker, brokerUrl)
  } finally {
    await one.stop()
  }
})

test('the idempotent producer appends each batch once across connections cut mid-stream', async () => {
  const proxy = await startTcpProxy({ host: '127.0.0.1', port: brokerKernel.kernel.addresses.grpc! })
  const connection = new PubsubConnection(`grpc://127.0.0.1:${proxy.port}`)
  const producer = new Producer(connection, { idempotent: true, createPartitions: 3, retries: 30 })
  const topic = `idem-${Date.now()}`
  const sent: Array<Promise<unknown>> = []
  try {
    for (let i = 0; i < 600; i++) {
      sent.push(producer.send({ topic, messages: [{ key: `k${i % 17}`, value: String(i) }] }))
      if (i % 100 === 50) {
        // Cut while batches are in flight, then let the producer reconnect.
        await new Promise((resolve) => setTimeout(resolve, 2))
        proxy.cut()
        await new Promise((resolve) => setTimeout(resolve, 50))
        proxy.restore()
      }
      if (i % 10 === 0) await new Promise((resolve) => setImmediate(resolve))
    }
    await Promise.all(sent)
    const values: string[] = []
    for (let p = 0; p < 3; p++) values.push(...(await broker.fetch(topic, p, 0, { maxMessages: 10_000 })).records.map((r) => r.value.toString()))
    assert.is(values.length, 600, 'each record appended exactly once')
    assert.is(new Set(values).size, 600)
  } finally {
    await producer.close().catch(() => {})
    connection.close()
    await proxy.close()
  }
})

test('gRPC refusals carry the broker error code and a status', async () => {
  const connection = new PubsubConnection(brokerUrl)
  try {
    await connection.call('Fetch', { topic: 'no-such-topic-x', partition: 0, offset: 0 })
    assert.unreachable()
  } catch (error) {
    assert.instance(error, PubsubError)
    assert.is((error as PubsubError).code, 'UNKNOWN_TOPIC')
  }
  try {
    await connection.call('Produce', { topic: 'big', records: [{ value: Buffer.alloc(2_000_000) }] })
    assert.unreachable()
  } catch (error) {
    assert.is((error as PubsubError).code, 'RECORD_TOO_LARGE')
  }
  await new Promise<void>((resolve, reject) =>
    connection.raw.Commit({ group: 'g-none', member_id: 'x', generation: 1, offsets: [] }, (error: grpc.ServiceError | null) => {
      try {
        assert.ok(error)
        assert.is(error!.code, grpc.status.NOT_FOUND)
        resolve()
      } catch (e) {
        reject(e)
      }
    }),
  )
  connection.close()
  assert.is(broker.log('big', 0).endOffset, 0, 'nothing stored from the refused produce')
})

test.after(async () => {
  await brokerKernel.stop()
})

test.run()
