// HTTPS listeners: a certificate sent with the registration or the proxy's configured one,
// checked before the server starts, served over TLS (requests and WebSocket upgrades),
// shown without its key, kept across a restart; and the proxy's metrics.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import http from 'node:http'
import tls from 'node:tls'
import { X509Certificate } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import { Agent, fetch as undiciFetch } from 'undici'
import { WebSocket, WebSocketServer } from 'ws'
import { devCertificate, startTestKernel, waitFor, type DevCertificate, type TestKernel } from '@armature/testing'
import { PLUGINS, TOKEN, adminClient, startUpstream, type Upstream } from './support.ts'

const work = mkdtempSync(join(tmpdir(), 'proxy-tls-'))
const dataDir = join(work, 'data')
let pair: DevCertificate
let other: DevCertificate
let upstream: Upstream
let k: TestKernel
let admin: ReturnType<typeof adminClient>
let dispatcher: Agent

const env = () => ({
  ADMIN_TOKEN: TOKEN,
  DATA_DIR: dataDir,
  DATABASE_URL: '',
  PROXY_TLS_CERT: join(pair.dir, 'cert.pem'),
  PROXY_TLS_KEY: join(pair.dir, 'key.pem'),
})

test.before(async () => {
  const silent = pino({ level: 'silent' })
  ;[pair, other, upstream] = await Promise.all([devCertificate(join(work, 'tls'), silent), devCertificate(join(work, 'other'), silent), startUpstream('secure')])
  k = await startTestKernel({ plugins: PLUGINS, env: env() })
  admin = adminClient(k.url)
  dispatcher = new Agent({ connect: { ca: pair.ca } })
})

test.after(async () => {
  await k.stop()
  await dispatcher.close()
  await upstream.close()
  rmSync(work, { recursive: true, force: true })
})

const secureRoutes = () => [{ path: '/', targets: [upstream.url] }]

test('a server registered with its own certificate answers over HTTPS and forwards X-Forwarded-Proto https', async () => {
  const created = await admin.create({ name: 'inline', listen: { port: 0, host: '127.0.0.1', tls: { cert: pair.cert, key: pair.key } }, routes: secureRoutes() })
  assert.is(created.status, 201, JSON.stringify(created.body))
  assert.match(created.body.url, /^https:\/\/127\.0\.0\.1:\d+$/)
  assert.is(created.body.tls.source, 'inline')
  assert.match(created.body.tls.subject, /CN=localhost/)
  assert.match(created.body.tls.issuer, /Armature dev CA/)
  assert.match(created.body.tls.fingerprint256, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/)

  const res = await undiciFetch(`${created.body.url}/hello?x=1`, { dispatcher })
  assert.is(res.status, 200)
  const seen = (await res.json()) as { url: string; headers: Record<string, string> }
  assert.is(seen.url, '/hello?x=1')
  assert.is(seen.headers['x-forwarded-proto'], 'https')

  const listing = await admin.list()
  assert.not.match(JSON.stringify(listing.body), /PRIVATE KEY/, 'the key is never shown')
  assert.not.match(JSON.stringify(listing.body), /BEGIN CERTIFICATE/, 'only the certificate summary is shown')

  // Plain HTTP to the TLS port gets no HTTP answer.
  const plain = await new Promise<string>((resolve) => {
    const req = http.get(created.body.url.replace('https:', 'http:'), (r) => resolve(`status ${r.statusCode}`))
    req.on('error', (error) => resolve(error.message))
  })
  assert.not.match(plain, /^status 200/)
})

test('listen.tls: true serves the configured certificate; WebSocket upgrades tunnel over TLS', async () => {
  const target = http.createServer()
  const wss = new WebSocketServer({ server: target })
  wss.on('connection', (socket, req) => socket.on('message', (data) => socket.send(`${req.headers['x-forwarded-proto']} ${data}`)))
  await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve))
  const created = await admin.create({
    name: 'configured',
    listen: { port: 0, tls: true },
    routes: [{ path: '/ws', targets: [`http://127.0.0.1:${(target.address() as { port: number }).port}`], strip: true }, ...secureRoutes()],
  })
  assert.is(created.status, 201, JSON.stringify(created.body))
  assert.is(created.body.tls.source, 'configured')
  assert.is((await undiciFetch(`${created.body.url}/x`, { dispatcher })).status, 200)

  const client = new WebSocket(`${created.body.url.replace('https:', 'wss:')}/ws/room`, { ca: pair.ca })
  try {
    await new Promise((resolve, reject) => client.once('open', resolve).once('error', reject))
    const reply = new Promise<string>((resolve) => client.once('message', (data) => resolve(String(data))))
    client.send('over tls')
    assert.is(await reply, 'https over tls')
  } finally {
    client.terminate()
    wss.close()
    target.closeAllConnections()
    target.close()
  }
})

test('a bad certificate or key is a 400 naming the field, and nothing starts', async () => {
  const cases: Array<[unknown, string, RegExp]> = [
    [{ cert: 'not a pem', key: pair.key }, 'listen.tls.cert', /PEM/],
    [{ cert: pair.cert, key: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n' }, 'listen.tls.key', /private key/],
    [{ cert: pair.cert, key: other.key }, 'listen.tls', /does not belong/],
    [{ cert: pair.cert }, 'listen.tls.key', /PEM/],
    [{ cert: pair.cert, key: pair.key, ca: pair.ca }, 'listen.tls.ca', /unknown field/],
    ['yes', 'listen.tls', /true or/],
  ]
  for (const [tls, field, message] of cases) {
    const answer = await admin.create({ name: 'bad-tls', listen: { port: 0, tls }, routes: secureRoutes() })
    assert.is(answer.status, 400, JSON.stringify(answer.body))
    assert.is(answer.body.field, field, JSON.stringify(answer.body))
    assert.match(answer.body.error, message)
  }
  assert.is((await admin.get('bad-tls')).status, 404)
})

test('proxy metrics count requests by server and status and show open connections', async () => {
  const server = (await admin.get('inline')).body
  const keepAlive = new Agent({ connect: { ca: pair.ca } })
  try {
    for (let i = 0; i < 3; i++) await (await undiciFetch(`${server.url}/m`, { dispatcher: keepAlive })).arrayBuffer()
    const metrics = async () => (await fetch(`${k.url}/metrics`)).text()
    await waitFor(async () => /armature_proxy_connections\{server="inline"\} [1-9]/.test(await metrics()), { what: 'the open connection to show' })
    const text = await metrics()
    const count = Number(/armature_proxy_requests_total\{server="inline",status="200"\} (\d+)/.exec(text)?.[1])
    assert.ok(count >= 4, `requests counted: ${count}`)
    assert.match(text, /armature_proxy_request_duration_seconds_count\{server="inline"\} \d+/)
    assert.match(text, /armature_proxy_servers 2\n/, 'the inline and the configured server')
  } finally {
    await keepAlive.close()
  }
})

/** The SHA-256 fingerprint of the certificate a TLS server presents to a new connection. */
function presented(url: string): Promise<string> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: hostname, port: Number(port), servername: 'localhost', rejectUnauthorized: false }, () => {
      resolve(socket.getPeerCertificate().fingerprint256)
      socket.end()
    })
    socket.on('error', reject)
  })
}

test('PATCH swaps the certificate: new connections get it, an open one stays up; plain servers refuse', async () => {
  const before = (await admin.get('inline')).body
  assert.is(await presented(before.url), before.tls.fingerprint256)
  const open = new Agent({ connect: { ca: pair.ca } })
  let rotated: string
  try {
    assert.is((await undiciFetch(`${before.url}/kept`, { dispatcher: open })).status, 200)
    const patched = await admin.patch('inline', { tls: { cert: other.cert, key: other.key } })
    assert.is(patched.status, 200, JSON.stringify(patched.body))
    rotated = patched.body.tls.fingerprint256
    assert.is.not(rotated, before.tls.fingerprint256)
    assert.equal(patched.body.routes, before.routes, 'routes untouched')
    assert.is(await presented(before.url), patched.body.tls.fingerprint256, 'a new connection gets the new certificate')
    const verified = new Agent({ connect: { ca: other.ca } })
    assert.is((await undiciFetch(`${before.url}/new`, { dispatcher: verified })).status, 200, 'and it verifies against its CA')
    await verified.close()
    assert.is((await undiciFetch(`${before.url}/kept`, { dispatcher: open })).status, 200, 'the open connection carries on')
  } finally {
    await open.close()
  }

  const plain = await admin.create({ name: 'plain', listen: { port: 0 }, routes: secureRoutes() })
  assert.is(plain.status, 201)
  const refused = await admin.patch('plain', { tls: true })
  assert.is(refused.status, 400)
  assert.is(refused.body.field, 'tls')
  assert.match(refused.body.error, /plain HTTP/)
  assert.is((await admin.patch('inline', { tls: { cert: pair.cert, key: other.key } })).body.field, 'tls', 'a mismatched pair is refused')
  assert.is((await admin.patch('inline', {})).body.field, 'body', 'an empty patch names what it may hold')
  assert.is((await admin.get('inline')).body.tls.fingerprint256, rotated, 'a refused patch changes nothing')
  assert.match(await (await fetch(`${k.url}/metrics`)).text(), /armature_proxy_servers 3\n/)
  assert.is((await admin.remove('plain')).status, 200)
  assert.match(await (await fetch(`${k.url}/metrics`)).text(), /armature_proxy_servers 2\n/, 'a deleted server is no longer counted')
})

test('TLS servers come back after a restart with their certificate; the servers file is private', async () => {
  const before = (await admin.list()).body.servers.filter((s: { tls: unknown }) => s.tls)
  assert.equal(
    before.map((s: { name: string }) => s.name),
    ['inline', 'configured'],
  )
  await k.stop()
  const file = join(dataDir, 'proxy', 'servers.json')
  assert.is(statSync(file).mode & 0o777, 0o600, 'only the owner may read the stored keys')
  assert.match(readFileSync(file, 'utf8'), /PRIVATE KEY/, 'an inline key is kept so the server can come back')

  k = await startTestKernel({ plugins: PLUGINS, env: env() })
  admin = adminClient(k.url)
  const after = (await admin.list()).body.servers
  for (const server of before) {
    const restored = after.find((s: { name: string }) => s.name === server.name)
    assert.is(restored.state, 'running')
    assert.is(restored.url, server.url, 'the same https address')
    assert.is(restored.tls.fingerprint256, server.tls.fingerprint256)
    // Both test CAs have one name, so a client is given the one that signed this certificate.
    const ca = server.tls.fingerprint256 === new X509Certificate(other.cert).fingerprint256 ? other.ca : pair.ca
    const client = new Agent({ connect: { ca } })
    try {
      assert.is((await undiciFetch(`${restored.url}/again`, { dispatcher: client })).status, 200)
    } finally {
      await client.close()
    }
  }
})

test.run()
