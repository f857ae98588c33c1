// gRPC over TLS on the kernel's GRPCS_PORT: the client, the CLI and a kernel reaching the broker
// remotely (PUBSUB_URL=grpcs://, PUBSUB_CA) check the broker's certificate against the CA given,
// and refuse a certificate they cannot check.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import { devCertificate, queuePortSuite, startTestKernel, type TestKernel } from '@armature/testing'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { runCli } from '../src/cli/run.ts'
import { ConnectionError, Producer, PubsubConnection } from '../src/client/index.ts'
import { PubsubError } from '../src/index.ts'

const PLUGIN = join(import.meta.dirname, '..')
const TOKEN = 'tls-token'
const dir = mkdtempSync(join(tmpdir(), 'pubsub-tls-'))
const pair = await devCertificate(dir, pino({ level: 'silent' }))
const caFile = join(dir, 'ca.pem')
const k: TestKernel = await startTestKernel({
  plugins: [PLUGIN],
  env: { GRPC_PORT: '0', GRPCS_PORT: '0', TLS_CERT: join(dir, 'cert.pem'), TLS_KEY: join(dir, 'key.pem'), PUBSUB_TOKEN: TOKEN },
})
const tlsUrl = `grpcs://localhost:${k.kernel.addresses.grpcs}`

const suite = queuePortSuite(
  (plugins) =>
    startTestKernel({ plugins: [PLUGIN, ...plugins], env: { GRPC_PORT: '0', PUBSUB_URL: tlsUrl, PUBSUB_CA: caFile, PUBSUB_TOKEN: TOKEN, PUBSUB_QUEUE_RETRY_DELAY_MS: '200' } }),
  { backend: 'pubsub', provider: 'pubsub' },
)
suite.run()

test('the client produces and fetches over grpcs:// with the CA; its url says grpcs', async () => {
  const connection = new PubsubConnection(tlsUrl, { token: TOKEN, tls: { ca: pair.ca } })
  try {
    assert.is(connection.url, tlsUrl)
    const producer = new Producer(connection, { createPartitions: 1 })
    const [sent] = await producer.send({ topic: 'tls', messages: [{ value: 'over TLS' }] })
    await producer.close()
    const fetched = await connection.call<{ records: Array<{ value: Buffer }> }>('Fetch', { topic: 'tls', partition: 0, offset: String(sent!.offset) })
    assert.is(fetched.records[0]!.value.toString(), 'over TLS')
  } finally {
    connection.close()
  }
})

test("without the CA the broker's self-signed chain is refused; TLS options on grpc:// are an error", async () => {
  const unchecked = new PubsubConnection(tlsUrl, { token: TOKEN })
  try {
    const refused = await unchecked.call('ListTopics', {}, 5000).catch((error: unknown) => error)
    assert.instance(refused, ConnectionError)
    assert.match(String((refused as Error).message), /certificate/i)
  } finally {
    unchecked.close()
  }
  const plain = `grpc://127.0.0.1:${k.kernel.addresses.grpc}`
  try {
    new PubsubConnection(plain, { tls: { ca: pair.ca } })
    assert.unreachable('tls with grpc:// is refused')
  } catch (error) {
    assert.instance(error, PubsubError)
    assert.match((error as Error).message, /use grpcs:\/\//)
  }
  assert.throws(() => new PubsubConnection(tlsUrl, { tls: { cert: pair.cert } }), /cert and key must be given together/)
  assert.throws(() => new PubsubConnection('https://localhost:1'), /expected grpc:\/\/host:port or grpcs:\/\/host:port/)
})

test('the CLI speaks grpcs:// with --ca (or PUBSUB_CA); a missing CA file is a usage error', async () => {
  const out: string[] = []
  const err: string[] = []
  const io = { out: (t: string) => void out.push(t), err: (t: string) => void err.push(t) }
  assert.is(await runCli(['topics', '--url', tlsUrl, '--ca', caFile, '--token', TOKEN, '--json'], io), 0, err.join(''))
  assert.ok(out.join('').includes('tls'))
  assert.is(await runCli(['topics', '--url', tlsUrl, '--ca', join(dir, 'missing.pem'), '--token', TOKEN], io), 2)
  assert.match(err.join(''), /--ca: cannot read .*missing\.pem/)
})

test('a remote kernel names its broker by the grpcs url; an unreadable PUBSUB_CA fails its start naming the option', async () => {
  const remote = await startTestKernel({ plugins: [PLUGIN], env: { GRPC_PORT: '0', PUBSUB_URL: tlsUrl, PUBSUB_CA: caFile, PUBSUB_TOKEN: TOKEN } })
  try {
    const described = (await (await fetch(`${remote.url}/_armature/plugins`)).json()) as { queue: { details: { broker: string } } }
    assert.is(described.queue.details.broker, tlsUrl)
  } finally {
    await remote.stop()
  }
  const broken = await startTestKernel({ plugins: [PLUGIN], env: { GRPC_PORT: '0', PUBSUB_URL: tlsUrl, PUBSUB_CA: join(dir, 'missing.pem') } })
  try {
    const slot = broken.kernel.slots.get('pubsub')
    assert.is(slot?.status, 'failed')
    assert.match(String(slot?.lastError), /PUBSUB_CA: cannot read .*missing\.pem/)
  } finally {
    await broken.stop()
  }
})

test.after(async () => {
  await k.stop()
  rmSync(dir, { recursive: true, force: true })
})

test.run()
