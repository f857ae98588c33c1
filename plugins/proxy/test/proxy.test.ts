// The admin API and forwarding, against a real kernel and real upstream sockets.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import http from 'node:http'
import { readFileSync } from 'node:fs'
import { WebSocket, WebSocketServer } from 'ws'
import { startTestKernel, waitFor, type TestKernel } from '@armature/testing'
import { PLUGINS, TOKEN, adminClient, closedPort, register, request, startUpstream, type Upstream } from './support.ts'

let k: TestKernel
let admin: ReturnType<typeof adminClient>
let a: Upstream
let b: Upstream

test.before(async () => {
  ;[a, b] = await Promise.all([startUpstream('a'), startUpstream('b')])
  k = await startTestKernel({
    plugins: PLUGINS,
    env: { ADMIN_TOKEN: TOKEN, PROXY_RESPONSE_TIMEOUT_MS: '400', PROXY_CONNECT_TIMEOUT_MS: '500', PROXY_MAX_BODY_BYTES: String(2 * 1024 * 1024) },
  })
  admin = adminClient(k.url)
})

test.after(async () => {
  await k.stop()
  await Promise.all([a.close(), b.close()])
})

test('register answers 201 with the address, and requests go through with forwarding headers', async () => {
  const created = await admin.create({
    name: 'web',
    listen: { port: 0, host: '127.0.0.1' },
    routes: [
      { path: '/api', targets: [a.url], strip: true },
      { path: '/', targets: [b.url] },
    ],
  })
  assert.is(created.status, 201, JSON.stringify(created.body))
  assert.match(created.body.url, /^http:\/\/127\.0\.0\.1:\d+$/)
  assert.ok(created.body.listen.port > 0, 'port 0 is replaced by the bound port')
  const url = created.body.url

  const stripped = await request(`${url}/api/items?x=1`, { headers: { connection: 'keep-alive, x-private-hop', 'x-private-hop': 'secret', 'x-forwarded-for': '10.1.2.3' } })
  assert.is(stripped.status, 200)
  const seen = stripped.json()
  assert.is(seen.upstream, 'a')
  assert.is(seen.url, '/items?x=1', 'the prefix is stripped, the query kept')
  assert.is(seen.headers['x-private-hop'], undefined, 'headers named by Connection do not cross')
  assert.is(seen.headers['x-forwarded-for'], '10.1.2.3, 127.0.0.1')
  assert.is(seen.headers['x-forwarded-proto'], 'http')
  assert.is(seen.headers['x-forwarded-host'], new URL(url).host)
  assert.is.not(stripped.headers['keep-alive'], 'timeout=77', 'the upstream keep-alive header does not reach the caller')
  assert.is(stripped.headers['x-upstream'], 'a')

  const rest = await request(`${url}/apix`)
  assert.is(rest.json().upstream, 'b', '/apix is not under /api')
  assert.is(rest.json().url, '/apix')

  const body = Buffer.alloc(1024 * 1024, 7)
  const posted = await fetch(`${url}/api/upload`, { method: 'POST', body })
  assert.is(posted.status, 200)
  assert.is((await posted.json()).bodyBytes, body.length, 'the body streams through whole')

  const listed = await admin.list()
  assert.is(listed.status, 200)
  const web = listed.body.servers.find((s: { name: string }) => s.name === 'web')
  assert.ok(web.requests >= 3)
  assert.is(web.upstreams[0].targets[0].healthy, true)
  assert.is((await admin.get('web')).body.url, url)
})

test('round-robin spreads requests; a dead target is skipped and shown unhealthy', async () => {
  const dead = `http://127.0.0.1:${await closedPort()}`
  const url = await register(admin, { name: 'spread', routes: [{ path: '/', targets: [a.url, dead, b.url] }] })
  const upstreams: string[] = []
  for (let i = 0; i < 6; i++) {
    const answer = await request(`${url}/rr`)
    assert.is(answer.status, 200, 'a refused connection moves on to the next target')
    upstreams.push(answer.json().upstream)
  }
  assert.ok(upstreams.includes('a') && upstreams.includes('b'), upstreams.join(','))
  const health = (await admin.get('spread')).body.upstreams[0].targets
  const deadHealth = health.find((t: { url: string }) => t.url === dead)
  assert.is(deadHealth.healthy, false)
  assert.ok(deadHealth.lastError)
})

test('active health checks take a sick target out before a request fails on it, and bring it back', async () => {
  let sick = true
  const flaky = await startUpstream('flaky', (req, res) => {
    if (req.url === '/health') {
      res.statusCode = sick ? 503 : 200
      return void res.end(sick ? 'sick' : 'ok')
    }
    res.setHeader('x-upstream', 'flaky')
    res.end('{}')
  })
  try {
    const url = await register(admin, {
      name: 'checked',
      routes: [{ path: '/', targets: [flaky.url, a.url], healthCheck: { path: '/health', intervalMs: 200, timeoutMs: 150 } }],
    })
    const flakyHealth = async () => (await admin.get('checked')).body.upstreams[0].targets.find((t: { url: string }) => t.url === flaky.url)
    await waitFor(async () => (await flakyHealth()).healthy === false, { what: 'the failing check to take the target out' })
    assert.match((await flakyHealth()).lastError, /^health check GET \/health answered 503$/)
    const whileSick: unknown[] = []
    for (let i = 0; i < 10; i++) {
      const res = await request(`${url}/x`)
      assert.is(res.status, 200)
      whileSick.push(res.headers['x-upstream'])
    }
    assert.equal([...new Set(whileSick)], ['a'], 'no request went to the sick target')
    sick = false
    await waitFor(async () => (await flakyHealth()).healthy === true, { what: 'a passing check to bring the target back' })
    const recovered = new Set<unknown>()
    for (let i = 0; i < 10; i++) recovered.add((await request(`${url}/x`)).headers['x-upstream'])
    assert.ok(recovered.has('flaky'), 'the target is back in the rotation')
    assert.is((await admin.remove('checked')).status, 200)
  } finally {
    await flaky.close()
  }
})

test('accessLog writes one line per request, and PATCH turns it off', async () => {
  const url = await register(admin, { name: 'logged', accessLog: true, routes: [{ path: '/', targets: [a.url] }] })
  assert.is((await admin.get('logged')).body.accessLog, true)
  const accessLines = () =>
    readFileSync(k.logFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { server?: string; method?: string; url?: string; status?: number; ms?: number; client?: string; upstream?: string | null; msg: string })
      .filter((line) => line.server === 'logged')
  assert.is((await request(`${url}/logged?q=1`)).status, 200)
  assert.is((await request(`${url}/other`, { method: 'POST', body: 'x' })).status, 200)
  await waitFor(() => accessLines().length === 2, { what: 'two access-log lines' })
  const [first, second] = accessLines()
  assert.equal([first!.method, first!.url, first!.status, first!.client, first!.upstream], ['GET', '/logged?q=1', 200, '127.0.0.1', a.url])
  assert.ok(typeof first!.ms === 'number' && first!.ms >= 0)
  assert.match(first!.msg, /^GET \/logged\?q=1 200 [\d.]+ ms$/)
  assert.equal([second!.method, second!.url], ['POST', '/other'])

  const off = await admin.patch('logged', { accessLog: false })
  assert.is(off.status, 200, JSON.stringify(off.body))
  assert.is(off.body.accessLog, false)
  assert.is((await request(`${url}/quiet`)).status, 200)
  assert.is((await admin.patch('logged', { accessLog: 'yes' })).body.field, 'accessLog')
  // Lines are written in order: once a later server's line is out, a line for /quiet would be too.
  const marker = await register(admin, { name: 'marker', accessLog: true, routes: [{ path: '/', targets: [a.url] }] })
  assert.is((await request(`${marker}/m`)).status, 200)
  await waitFor(() => readFileSync(k.logFile, 'utf8').includes('"server":"marker"'), { what: "the marker server's line" })
  assert.is(accessLines().length, 2, 'no line once it is off')
  assert.is((await admin.remove('logged')).status, 200)
  assert.is((await admin.remove('marker')).status, 200)
})

test('a down upstream answers 502, a slow one 504, a body over the limit 413', async () => {
  const dead = `http://127.0.0.1:${await closedPort()}`
  const url = await register(admin, {
    name: 'faults',
    routes: [
      { path: '/down', targets: [dead] },
      { path: '/', targets: [a.url] },
    ],
  })
  const down = await request(`${url}/down/x`)
  assert.is(down.status, 502)
  assert.match(down.json().error, /no upstream answered/)
  const slow = await request(`${url}/slow?ms=2000`)
  assert.is(slow.status, 504)
  assert.match(slow.json().error, /no response within 400 ms/)
  const big = await request(`${url}/big`, { method: 'POST', body: Buffer.alloc(3 * 1024 * 1024) })
  assert.is(big.status, 413)
})

test('PATCH swaps routes; a kept-alive connection stays open and sees the new routes', async () => {
  const url = await register(admin, { name: 'swap', routes: [{ path: '/', targets: [a.url] }] })
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  try {
    assert.is((await request(`${url}/x`, { agent })).json().upstream, 'a')
    const patched = await admin.patch('swap', { routes: [{ path: '/', targets: [b.url] }] })
    assert.is(patched.status, 200, JSON.stringify(patched.body))
    assert.equal(patched.body.routes[0].targets, [b.url])
    const after = await request(`${url}/x`, { agent })
    assert.is(after.json().upstream, 'b')
    assert.ok(after.reusedSocket, 'the same connection carried both requests')
    // The agent still holds that connection idle: the drain closes it rather than waiting for its keep-alive timeout.
    const deleted = await admin.remove('swap')
    assert.ok(deleted.body.drain.durationMs < 2000, `drained in ${deleted.body.drain.durationMs} ms`)
    assert.is(deleted.body.drain.forced, false)
    await register(admin, { name: 'swap', routes: [{ path: '/', targets: [a.url] }] })
  } finally {
    agent.destroy()
  }
  assert.is((await admin.patch('swap', { routes: [] })).status, 400)
  assert.is((await admin.patch('swap', { routes: [{ path: '/', targets: [a.url] }], listen: { port: 1 } })).body.field, 'listen')
})

test('DELETE drains: requests in flight complete, then the port is closed', async () => {
  const url = await register(admin, { name: 'drain', routes: [{ path: '/', targets: [a.url] }] })
  const before = a.inFlight()
  const slow = Array.from({ length: 5 }, () => request(`${url}/slow?ms=300`))
  await waitFor(() => a.inFlight() >= before + 5, { what: '5 requests at the upstream' })
  // The 504 limit of this kernel is 400 ms; these take 300.
  const deleted = await admin.remove('drain')
  assert.is(deleted.status, 200)
  assert.is(deleted.body.state, 'deleted')
  assert.is(deleted.body.drain.finished, 5)
  const answers = await Promise.all(slow)
  assert.equal(
    answers.map((r) => r.status),
    [200, 200, 200, 200, 200],
  )
  const refused = await request(`${url}/x`).then(
    () => 'answered',
    (error: NodeJS.ErrnoException) => error.code,
  )
  assert.is(refused, 'ECONNREFUSED')
  assert.is((await admin.get('drain')).status, 404)
})

test('WebSocket upgrades are tunnelled to the upstream', async () => {
  const upstream = http.createServer()
  const wss = new WebSocketServer({ server: upstream })
  wss.on('connection', (socket, req) => socket.on('message', (data) => socket.send(`${req.url} echo ${data}`)))
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve))
  const target = `http://127.0.0.1:${(upstream.address() as { port: number }).port}`
  const url = await register(admin, { name: 'sockets', routes: [{ path: '/ws', targets: [target], strip: true }] })
  const client = new WebSocket(`${url.replace('http', 'ws')}/ws/room`)
  try {
    await new Promise((resolve, reject) => client.once('open', resolve).once('error', reject))
    const reply = new Promise<string>((resolve) => client.once('message', (data) => resolve(String(data))))
    client.send('hello')
    assert.is(await reply, '/room echo hello')
    await waitFor(async () => (await admin.get('sockets')).body.tunnels === 1, { what: 'the tunnel to be counted' })
  } finally {
    client.terminate()
    wss.close()
    upstream.closeAllConnections()
    upstream.close()
  }
})

test('bad bodies are 4xx errors that name the field', async () => {
  const cases: Array<[unknown, number, string | RegExp]> = [
    [{ listen: { port: 0 }, routes: [{ path: '/', targets: [a.url] }] }, 400, 'name'],
    [{ name: 'Bad Name', routes: [{ path: '/', targets: [a.url] }] }, 400, 'name'],
    [{ name: 'p', listen: { port: 80 }, routes: [{ path: '/', targets: [a.url] }] }, 400, 'listen.port'],
    [{ name: 'p', listen: { port: 70000 }, routes: [{ path: '/', targets: [a.url] }] }, 400, 'listen.port'],
    [{ name: 'p', listen: { host: 'example.com' }, routes: [{ path: '/', targets: [a.url] }] }, 400, 'listen.host'],
    // An address of no interface here (TEST-NET-1): the listen is refused with EADDRNOTAVAIL.
    [{ name: 'p', listen: { host: '192.0.2.1' }, routes: [{ path: '/', targets: [a.url] }] }, 400, 'listen.host'],
    [{ name: 'p', listen: { headersTimeoutMs: 0 }, routes: [{ path: '/', targets: [a.url] }] }, 400, 'listen.headersTimeoutMs'],
    [{ name: 'p', routes: [] }, 400, 'routes'],
    [{ name: 'p', routes: [{ path: 'x', targets: [a.url] }] }, 400, 'routes[0].path'],
    [{ name: 'p', routes: [{ path: '/', targets: ['http://10.0.0.8:80'] }] }, 400, 'routes[0].targets[0]'],
    [{ name: 'p', routes: [{ path: '/', targets: [a.url, 'http://example.com'] }] }, 400, 'routes[0].targets[1]'],
    [{ name: 'p', routes: [{ path: '/', targets: ['file:///etc/passwd'] }] }, 400, 'routes[0].targets[0]'],
    [{ name: 'p', routes: [{ path: '/', targets: [a.url], strip: 'yes' }] }, 400, 'routes[0].strip'],
    [{ name: 'p', routes: [{ path: '/', targets: [a.url], healthCheck: { path: 'health' } }] }, 400, 'routes[0].healthCheck.path'],
    [{ name: 'p', routes: [{ path: '/', targets: [a.url], healthCheck: { path: '/h', intervalMs: 10 } }] }, 400, 'routes[0].healthCheck.intervalMs'],
    [{ name: 'p', routes: [{ path: '/', targets: [a.url], healthCheck: { path: '/h', intervalMs: 1000, timeoutMs: 5000 } }] }, 400, 'routes[0].healthCheck.timeoutMs'],
    [{ name: 'p', routes: [{ path: '/', targets: [a.url], healthCheck: { path: '/h', every: 1 } }] }, 400, 'routes[0].healthCheck.every'],
    [{ name: 'p', routes: [{ path: '/', targets: [a.url] }], priority: 0 }, 400, 'priority'],
    [{ name: 'p', routes: [{ path: '/', targets: [a.url] }], tls: true }, 400, 'tls'],
    [{ name: 'p', listen: { tls: true }, routes: [{ path: '/', targets: [a.url] }] }, 400, 'listen.tls'],
    [{ name: 'p', listen: { tls: { cert: 'x', key: 'y' } }, routes: [{ path: '/', targets: [a.url] }] }, 400, 'listen.tls.cert'],
  ]
  for (const [body, status, field] of cases) {
    const answer = await admin.create(body)
    assert.is(answer.status, status, `${JSON.stringify(body)} -> ${JSON.stringify(answer.body)}`)
    assert.is(answer.body.field, field, JSON.stringify(answer.body))
    assert.ok(answer.body.error.startsWith(`${field}:`), answer.body.error)
  }
  const notAllowed = await admin.create({ name: 'p', routes: [{ path: '/', targets: ['http://10.0.0.8'] }] })
  assert.match(notAllowed.body.error, /not allowed.*127\.0\.0\.0\/8/)

  assert.is((await admin.call('POST', '/servers', '{not json')).status, 400)
  assert.is((await admin.call('POST', '/servers', 'name=x', { 'content-type': 'text/plain' })).status, 415)
  assert.is((await admin.call('POST', '/servers', JSON.stringify({ name: 'p', pad: 'x'.repeat(100_000) }))).status, 413)
  assert.is((await admin.get('no-such')).status, 404)
  assert.is((await admin.remove('no-such')).status, 404)

  await register(admin, { name: 'twice', routes: [{ path: '/', targets: [a.url] }] })
  const again = await admin.create({ name: 'twice', routes: [{ path: '/', targets: [a.url] }] })
  assert.is(again.status, 409)
  const takenPort = new URL((await admin.get('twice')).body.url).port
  const clash = await admin.create({ name: 'clash', listen: { port: Number(takenPort) }, routes: [{ path: '/', targets: [a.url] }] })
  assert.is(clash.status, 409)
  assert.match(clash.body.error, /address is in use/)
  assert.is((await admin.get('clash')).status, 404, 'a server that could not start is not kept')
})

test('the admin API needs the bearer token', async () => {
  assert.is((await adminClient(k.url, '').list()).status, 401)
  const wrong = await adminClient(k.url, 'wrong').create({ name: 'x', routes: [{ path: '/', targets: [a.url] }] })
  assert.is(wrong.status, 401)
  assert.is((await admin.get('x')).status, 404, 'nothing was created')
  const longer = await fetch(`${k.url}/proxy/servers`, { headers: { authorization: `Bearer ${TOKEN}x` } })
  assert.is(longer.status, 401)
  assert.is(longer.headers.get('www-authenticate'), 'Bearer')
  // The scheme is case-insensitive (RFC 9110 11.1).
  assert.is((await fetch(`${k.url}/proxy/servers`, { headers: { authorization: `bearer ${TOKEN}` } })).status, 200)
})

test('without ADMIN_TOKEN the admin API answers 403 and says how to enable it', async () => {
  const open = await startTestKernel({ plugins: PLUGINS })
  try {
    const answer = await adminClient(open.url, 'anything').list()
    assert.is(answer.status, 403)
    assert.match(answer.body.error, /set ADMIN_TOKEN/)
  } finally {
    await open.stop()
  }
})

test.run()
