// A proxy server's bounds on slow and hoarding clients: headers timeout, keep-alive timeout,
// connection cap; from the options (PROXY_*) or per server under `listen`.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { connect, type Socket } from 'node:net'
import { startTestKernel, waitFor, type TestKernel } from '@armature/testing'
import { PLUGINS, TOKEN, adminClient, register, request, startUpstream, type Upstream } from './support.ts'

let k: TestKernel
let admin: ReturnType<typeof adminClient>
let upstream: Upstream

test.before(async () => {
  upstream = await startUpstream('limits')
  k = await startTestKernel({ plugins: PLUGINS, env: { ADMIN_TOKEN: TOKEN, PROXY_MAX_CONNECTIONS: '2', PROXY_KEEP_ALIVE_TIMEOUT_MS: '200' } })
  admin = adminClient(k.url)
})

test.after(async () => {
  await k.stop()
  await upstream.close()
})

interface Client {
  socket: Socket
  received: () => string
  closed: () => boolean
}

function open(url: string): Promise<Client> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve, reject) => {
    let received = ''
    let closed = false
    const socket = connect(Number(port), hostname, () => resolve({ socket, received: () => received, closed: () => closed }))
    socket.on('data', (chunk: Buffer) => (received += chunk.toString()))
    socket.on('error', () => {})
    socket.on('close', () => (closed = true))
    socket.once('error', reject)
  })
}

test('a client trickling its headers byte by byte is cut off at the headers timeout with 408', async () => {
  const url = await register(admin, { name: 'trickle', listen: { headersTimeoutMs: 300 }, routes: [{ path: '/', targets: [upstream.url] }] })
  const view = (await admin.get('trickle')).body
  assert.is(view.limits.headersTimeoutMs, 300, 'the registration sets its own')
  assert.is(view.limits.maxConnections, 2, 'the rest follow the options')
  const client = await open(url)
  const head = 'GET / HTTP/1.1\r\nHost: x\r\n' + 'X-Slow: ' + 'a'.repeat(10_000)
  let sent = 0
  // One byte every 20 ms: always sending, never done.
  const timer = setInterval(() => {
    if (!client.closed() && sent < head.length) client.socket.write(head[sent++]!)
  }, 20)
  try {
    await waitFor(() => client.closed(), { timeoutMs: 10_000, what: 'the trickling client to be cut off' })
  } finally {
    clearInterval(timer)
  }
  assert.match(client.received(), /^HTTP\/1\.1 408 /)
  assert.ok(sent < head.length, 'cut off while still sending')
  assert.is(upstream.seen.length, 0, 'nothing reached the upstream')
})

test('an idle keep-alive connection closes after keepAliveTimeoutMs', async () => {
  const url = await register(admin, { name: 'idle', routes: [{ path: '/', targets: [upstream.url] }] })
  const client = await open(url)
  client.socket.write('GET /once HTTP/1.1\r\nHost: x\r\n\r\n')
  await waitFor(() => client.received().includes('"url":"/once"'), { what: 'the answer' })
  assert.match(client.received(), /^HTTP\/1\.1 200 /)
  // The default (5 s) is far past this deadline; the option (200 ms) is well inside it.
  await waitFor(() => client.closed(), { timeoutMs: 3000, what: 'the idle connection to be closed' })
})

test('connections past maxConnections are closed on arrival; a freed slot takes the next', async () => {
  const url = await register(admin, { name: 'capped', listen: { keepAliveTimeoutMs: 60_000 }, routes: [{ path: '/', targets: [upstream.url] }] })
  const first = await open(url)
  const second = await open(url)
  await waitFor(async () => (await admin.get('capped')).body.connections === 2, { what: 'two connections' })
  const third = await open(url)
  third.socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n')
  await waitFor(() => third.closed(), { what: 'the third connection to be closed' })
  assert.is(third.received(), '', 'no answer on a connection over the cap')
  assert.ok(!first.closed() && !second.closed(), 'the two within the cap stay open')
  first.socket.destroy()
  await waitFor(async () => (await admin.get('capped')).body.connections === 1, { what: 'the slot to be freed' })
  assert.is((await request(`${url}/after`)).status, 200)
  second.socket.destroy()
})

test.run()
