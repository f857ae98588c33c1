// The domain alone, with plain calls: balancer, routes, allow-list, validation, stop order.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { TargetAllowList, LOOPBACK_ONLY } from '../src/allow-list.ts'
import { Balancer } from '../src/balancer.ts'
import { HealthChecker } from '../src/health-check.ts'
import { ProxyOptionError } from '../src/errors.ts'
import { LISTENER_DEFAULTS } from '../src/listener-limits.ts'
import { parsePortRange } from '../src/port-range.ts'
import { RouteTable } from '../src/route-table.ts'
import { SWEEP_PHASE, stopPhase } from '../src/stop-order.ts'
import { parseServerSpec } from '../src/validation.ts'

test('a health checker marks targets down on a timeout or an error status, up on success, and stops probing when stopped', async () => {
  const balancer = new Balancer(['http://127.0.0.1:1/base', 'http://127.0.0.1:2'], 100)
  const probed: string[] = []
  let answer: (url: URL) => Promise<number> = (url) => (url.port === '1' ? Promise.reject(Object.assign(new Error('timed out'), { name: 'TimeoutError' })) : Promise.resolve(500))
  const checker = new HealthChecker(balancer, { path: '/healthz', intervalMs: 60_000, timeoutMs: 50 }, (url) => {
    probed.push(url.href)
    return answer(url)
  })
  checker.start()
  await new Promise((resolve) => setImmediate(resolve))
  assert.equal(probed, ['http://127.0.0.1:1/base/healthz', 'http://127.0.0.1:2/healthz'], "the target's base path comes first")
  const [one, two] = balancer.health()
  assert.equal([one!.healthy, one!.lastError], [false, 'health check GET /healthz: no answer within 50 ms'])
  assert.equal([two!.healthy, two!.lastError], [false, 'health check GET /healthz answered 500'])
  assert.is(one!.downUntil, null, 'held until a probe passes, not for a cool-down')
  balancer.failed(balancer.targets()[0]!, 'a request failed too')
  assert.is(balancer.health()[0]!.healthy, false, 'a passive failure does not shorten the hold')
  checker.stop()
  answer = () => Promise.resolve(200)
  checker.start()
  await new Promise((resolve) => setImmediate(resolve))
  assert.ok(
    balancer.health().every((h) => h.healthy),
    'a passing probe brings both back',
  )
  checker.stop()
  assert.is(probed.length, 4)
})

test('a route table without a health check releases the holds of the one it replaces', () => {
  const target = 'http://127.0.0.1:1'
  const checked = new RouteTable([{ path: '/', targets: [target], strip: false, healthCheck: { path: '/h', intervalMs: 1000, timeoutMs: 100 } }], 100)
  const balancer = checked.routes[0]!.balancer
  balancer.failed(balancer.targets()[0]!, 'health check GET /h answered 503', { untilSucceeded: true })
  assert.is(
    new RouteTable([{ path: '/', targets: [target], strip: false, healthCheck: { path: '/h', intervalMs: 1000, timeoutMs: 100 } }], 100, checked).routes[0]!.balancer.health()[0]!
      .healthy,
    false,
    'still checked: still held',
  )
  assert.is(new RouteTable([{ path: '/', targets: [target], strip: false }], 100, checked).routes[0]!.balancer.health()[0]!.healthy, true, 'no longer checked: released')
})

test('the balancer rotates, skips a failed target for the cool-down, and tries it last', () => {
  let now = 1000
  const balancer = new Balancer(['http://127.0.0.1:1', 'http://127.0.0.1:2', 'http://127.0.0.1:3'], 500, () => now)
  const first = (plan: URL[]) => plan[0]!.port
  assert.equal([first(balancer.plan()), first(balancer.plan()), first(balancer.plan()), first(balancer.plan())], ['1', '2', '3', '1'])
  const two = balancer.plan().find((u) => u.port === '2')!
  balancer.failed(two, 'ECONNREFUSED')
  for (let i = 0; i < 4; i++) {
    const plan = balancer.plan()
    assert.is.not(plan[0]!.port, '2')
    assert.is(plan.at(-1)!.port, '2', 'a cooling target is still tried when all else fails')
  }
  assert.is(balancer.health().find((h) => h.url.endsWith(':2'))!.healthy, false)
  now += 501
  assert.ok(
    balancer.health().every((h) => h.healthy),
    'back after the cool-down',
  )
  balancer.succeeded(two)
  assert.is(balancer.health()[1]!.failures, 0)
})

test('routes match at segment boundaries, longest first, and strip when asked', () => {
  const table = new RouteTable(
    [
      { path: '/', targets: ['http://127.0.0.1:1'], strip: false },
      { path: '/api', targets: ['http://127.0.0.1:2/base'], strip: true },
      { path: '/api/v2', targets: ['http://127.0.0.1:3'], strip: false },
    ],
    1000,
  )
  const path = (url: string) => {
    const match = table.match(url)!
    return `${match.route.spec.path} -> ${match.upstreamPath(match.route.balancer.plan()[0]!)}`
  }
  assert.is(path('/api/users?x=1'), '/api -> /base/users?x=1')
  assert.is(path('/api'), '/api -> /base/')
  assert.is(path('/apix'), '/ -> /apix')
  assert.is(path('/api/v2/a'), '/api/v2 -> /api/v2/a')
})

test('the allow-list takes networks, addresses and exact names; no DNS', () => {
  const loopback = new TargetAllowList(LOOPBACK_ONLY)
  for (const host of ['127.0.0.1', '127.8.9.10', '[::1]', 'localhost', 'LOCALHOST']) assert.ok(loopback.allows(host), host)
  for (const host of ['10.0.0.1', '[::2]', 'localhost.example.com', 'example.com', '0.0.0.0']) assert.not.ok(loopback.allows(host), host)
  const wider = new TargetAllowList(['10.0.0.0/8', 'fd00::/8', 'api.internal'])
  assert.ok(wider.allows('10.200.1.1') && wider.allows('[fd12::1]') && wider.allows('api.internal'))
  assert.not.ok(wider.allows('11.0.0.1'))
  assert.ok(new TargetAllowList(['*']).allows('example.com'))
  assert.throws(
    () => new TargetAllowList(['10.0.0.0/33']),
    (e: Error) => e instanceof ProxyOptionError && /allowedTargets/.test(e.message),
  )
})

test('port ranges parse or name the option', () => {
  assert.equal(parsePortRange('1024-65535'), { min: 1024, max: 65535 })
  assert.equal(parsePortRange('8080'), { min: 8080, max: 8080 })
  for (const bad of ['0-10', '10-5', 'x', '1-70000']) assert.throws(() => parsePortRange(bad), /portRange/)
})

test('validation fills defaults and normalises paths and targets', () => {
  const policy = { allowList: new TargetAllowList(LOOPBACK_ONLY), ports: parsePortRange('1024-65535'), limits: LISTENER_DEFAULTS }
  const spec = parseServerSpec({ name: 'x', routes: [{ path: '/api/', targets: ['http://localhost:8080/'] }] }, policy)
  assert.equal(spec, { name: 'x', listen: { port: 0, host: '127.0.0.1' }, routes: [{ path: '/api', targets: ['http://localhost:8080'], strip: false }] })
  assert.throws(() => parseServerSpec({ name: 'x', routes: [{ path: '/', targets: ['http://user:pw@127.0.0.1'] }] }, policy), /credentials/)
  assert.throws(
    () =>
      parseServerSpec(
        {
          name: 'x',
          routes: [
            { path: '/a', targets: ['http://127.0.0.1'] },
            { path: '/a/', targets: ['http://127.0.0.1'] },
          ],
        },
        policy,
      ),
    /appears twice/,
  )
})

test('listener limits: a registration may set its own; each bad one is refused naming its field', () => {
  const policy = { allowList: new TargetAllowList(LOOPBACK_ONLY), ports: parsePortRange('1024-65535'), limits: LISTENER_DEFAULTS }
  const routes = [{ path: '/', targets: ['http://127.0.0.1:8080'] }]
  const spec = parseServerSpec({ name: 'x', listen: { headersTimeoutMs: 2000, maxConnections: 50 }, routes }, policy)
  assert.equal(spec.listen, { port: 0, host: '127.0.0.1', headersTimeoutMs: 2000, maxConnections: 50 })
  for (const [listen, field] of [
    [{ headersTimeoutMs: 0 }, 'listen.headersTimeoutMs'],
    [{ keepAliveTimeoutMs: 1.5 }, 'listen.keepAliveTimeoutMs'],
    [{ maxConnections: '10' }, 'listen.maxConnections'],
    [{ requestTimeoutMs: -1 }, 'listen.requestTimeoutMs'],
    // The default headers timeout (30 s) would outlast this request timeout.
    [{ requestTimeoutMs: 1000 }, 'listen.requestTimeoutMs'],
    [{ headersTimeoutMs: 400_000 }, 'listen.headersTimeoutMs'],
  ] as const) {
    try {
      parseServerSpec({ name: 'x', listen, routes }, policy)
      assert.unreachable(JSON.stringify(listen))
    } catch (error) {
      assert.is((error as { field?: string }).field, field, JSON.stringify(listen))
    }
  }
  assert.is(parseServerSpec({ name: 'x', listen: { requestTimeoutMs: 0, headersTimeoutMs: 400_000 }, routes }, policy).listen.requestTimeoutMs, 0, '0 is no request limit')
})

test('stop phases: priorities first, then creation order or its reverse, all inside 10.001-10.999', () => {
  assert.equal(
    [1, 2, 3].map((n) => stopPhase(n, undefined, 'creation')),
    [10.101, 10.102, 10.103],
  )
  assert.equal(
    [1, 2, 3].map((n) => stopPhase(n, undefined, 'reverse')),
    [10.997, 10.996, 10.995],
  )
  assert.is(stopPhase(7, 1, 'reverse'), 10.001)
  assert.is(stopPhase(7, 99, 'creation'), 10.099)
  assert.is(stopPhase(5000, undefined, 'creation'), 10.998, 'past the band, servers share its last slot')
  assert.is(stopPhase(5000, undefined, 'reverse'), 10.1)
  assert.is(SWEEP_PHASE, 10.999)
})

test.run()
