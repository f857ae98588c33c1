// The echo plugin over every protocol through a real kernel, plain and over TLS.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as grpc from '@grpc/grpc-js'
import WebSocket from 'ws'
import { Agent, fetch as undiciFetch } from 'undici'
import pino from 'pino'
import { devCertificate, startTestKernel, waitFor, type TestKernel } from '@armature/testing'
import { ECHO_DIR, echoClient, healthCheck, healthClient, serverStream, unary } from './support.ts'

const tlsDir = mkdtempSync(join(tmpdir(), 'echo-tls-'))
let k: TestKernel
let ca: string

test.before(async () => {
  const pair = await devCertificate(tlsDir, pino({ level: 'silent' }))
  ca = pair.ca
  k = await startTestKernel({
    plugins: [ECHO_DIR],
    env: { GRPC_PORT: '0', GRPCS_PORT: '0', TLS_CERT: join(tlsDir, 'cert.pem'), TLS_KEY: join(tlsDir, 'key.pem'), WS_MAX_PAYLOAD: '4096' },
  })
})
test.after(async () => {
  await k.stop()
})

const grpcAddress = () => `127.0.0.1:${k.kernel.addresses.grpc}`

test('HTTP: GET and POST echo; bad input is a clear 400', async () => {
  const get = (await (await fetch(`${k.url}/echo?message=hi`)).json()) as any
  assert.is(get.message, 'hi')
  assert.is(get.generation, 1)
  const post = await fetch(`${k.url}/echo`, { method: 'POST', body: JSON.stringify({ message: 'posted' }), headers: { 'content-type': 'application/json' } })
  assert.is(((await post.json()) as any).message, 'posted')
  const json = { 'content-type': 'application/json' }
  const bad = await fetch(`${k.url}/echo`, { method: 'POST', body: 'not json', headers: json })
  assert.is(bad.status, 400)
  assert.match(((await bad.json()) as any).error, /request body is not valid JSON/)
  const text = await fetch(`${k.url}/echo`, { method: 'POST', body: JSON.stringify({ message: 'plain' }) })
  assert.is(text.status, 415, 'fetch sends a string as text/plain, which is not JSON')
  const array = await fetch(`${k.url}/echo`, { method: 'POST', body: '["hi"]', headers: json })
  assert.is(array.status, 400)
  assert.match(((await array.json()) as any).error, /body must be a JSON object/)
  const wrongType = await fetch(`${k.url}/echo`, { method: 'POST', body: JSON.stringify({ message: 42 }), headers: json })
  assert.is(wrongType.status, 400)
  assert.match(((await wrongType.json()) as any).error, /message must be a string, got number/)
  assert.is((await fetch(`${k.url}/echo/slow?ms=-1`)).status, 400)
})

test('gRPC: unary, server stream, bidi; health SERVING overall and per service', async () => {
  const client = echoClient(grpcAddress())
  const reply = await unary(client, 'over grpc')
  assert.is(reply.message, 'over grpc')
  const stream = serverStream(client, { message: 's', repeat: 5, interval_ms: 0 })
  const status = await stream.done
  assert.is(status.code, grpc.status.OK)
  assert.equal(
    stream.messages.map((m) => m.sequence),
    [1, 2, 3, 4, 5],
  )
  const bidi = client.Bidi()
  const got: string[] = []
  const ended = new Promise<void>((resolve) => bidi.on('status', () => resolve()))
  bidi.on('data', (m: any) => got.push(m.message))
  bidi.write({ message: 'a' })
  bidi.write({ message: 'b' })
  await waitFor(() => got.length === 2, { what: 'two bidi replies' })
  bidi.end()
  await ended
  assert.equal(got, ['a', 'b'])
  const health = healthClient(grpcAddress())
  assert.is(await healthCheck(health, ''), 'SERVING')
  assert.is(await healthCheck(health, 'armature.echo.Echo'), 'SERVING')
  const unknown = await healthCheck(health, 'nope.Nope').catch((e) => e.code)
  assert.is(unknown, grpc.status.NOT_FOUND)
  client.close()
  health.close()
})

test('gRPC reflection lists every service the server answers and describes the kernel ones', async () => {
  const { loadSync } = await import('@grpc/proto-loader')
  const def = loadSync(join(import.meta.dirname, '../../../node_modules/@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto'), { keepCase: true, defaults: true })
  const Reflection = (grpc.loadPackageDefinition(def) as any).grpc.reflection.v1.ServerReflection
  const client = new Reflection(grpcAddress(), grpc.credentials.createInsecure())
  const call = client.ServerReflectionInfo()
  const answers: any[] = []
  call.on('data', (answer: any) => answers.push(answer))
  call.on('error', () => undefined)
  try {
    call.write({ list_services: '' })
    await waitFor(() => answers.length === 1, { what: 'the service list' })
    const names = answers[0].list_services_response.service.map((s: any) => s.name).sort()
    assert.equal(names, ['armature.echo.Echo', 'grpc.health.v1.Health', 'grpc.reflection.v1.ServerReflection', 'grpc.reflection.v1alpha.ServerReflection'])
    // What `grpcurl describe grpc.health.v1.Health` asks for.
    call.write({ file_containing_symbol: 'grpc.health.v1.Health' })
    await waitFor(() => answers.length === 2, { what: 'the health descriptor' })
    assert.ok(answers[1].file_descriptor_response, JSON.stringify(answers[1].error_response))
    assert.ok(answers[1].file_descriptor_response.file_descriptor_proto.length >= 1)
  } finally {
    call.end()
    client.close()
  }
})

test('WebSocket: echo, unknown path 404, maxPayload enforced', async () => {
  const wsUrl = k.url.replace('http', 'ws')
  const ws = new WebSocket(`${wsUrl}/echo/ws`)
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject))
  const reply = new Promise<any>((resolve) => ws.once('message', (data) => resolve(JSON.parse(String(data)))))
  ws.send('over ws')
  assert.is((await reply).message, 'over ws')
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)))
  ws.send('x'.repeat(5000))
  assert.is(await closed, 1009)
  const missing = new WebSocket(`${wsUrl}/nowhere`)
  const status = await new Promise<number>((resolve) => missing.once('unexpected-response', (_req, res) => resolve(res.statusCode!)).once('error', () => resolve(0)))
  assert.is(status, 404)
})

test('TLS: HTTPS via fetch with the CA, gRPCs with credentials, WSS', async () => {
  const dispatcher = new Agent({ connect: { ca } })
  const res = await undiciFetch(`https://localhost:${k.kernel.addresses.https!.port}/echo?message=secure`, { dispatcher })
  assert.is(((await res.json()) as any).message, 'secure')
  await dispatcher.close()
  const client = echoClient(`localhost:${k.kernel.addresses.grpcs}`, grpc.credentials.createSsl(Buffer.from(ca)))
  assert.is((await unary(client, 'grpcs')).message, 'grpcs')
  client.close()
  const wss = new WebSocket(`wss://localhost:${k.kernel.addresses.https!.port}/echo/ws`, { ca })
  await new Promise((resolve, reject) => wss.once('open', resolve).once('error', reject))
  const reply = new Promise<any>((resolve) => wss.once('message', (data) => resolve(JSON.parse(String(data)))))
  wss.send('wss')
  assert.is((await reply).message, 'wss')
  wss.close()
})

test('the plugin list shows every protocol surface', async () => {
  const list = (await (await fetch(`${k.url}/_armature/plugins`)).json()) as { plugins: any[] }
  const echo = list.plugins.find((p) => p.name === 'echo')
  assert.equal(echo.routes, ['/echo'])
  assert.equal(echo.websockets, ['/echo/ws'])
  assert.equal(echo.grpc, ['/armature.echo.Echo/Unary', '/armature.echo.Echo/ServerStream', '/armature.echo.Echo/Bidi'])
})

test.run()
