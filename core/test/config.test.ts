import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadKernelConfig } from '../src/config.ts'
import { pluginEnvName, resolvePluginConfig } from '../src/plugin-config.ts'
import { ConfigError } from '../src/errors.ts'
import { option } from '../src/options.ts'
import { orderByUses } from '../src/dependencies.ts'

const dir = (files: Record<string, string> = {}) => {
  const d = mkdtempSync(join(tmpdir(), 'armature-config-'))
  for (const [name, body] of Object.entries(files)) writeFileSync(join(d, name), body)
  return d
}

test('kernel defaults', async () => {
  const config = await loadKernelConfig({ cwd: dir(), env: {} })
  assert.is(config.port, 8080)
  assert.is(config.httpsPort, 8443)
  assert.is(config.shutdown.timeoutMs, 10_000)
  assert.is(config.logLevel, 'info')
  assert.ok(config.logFile.endsWith('logs/armature.log'))
  assert.is(config.amqpRetryDelayMs, 1000)
  assert.is((await loadKernelConfig({ cwd: dir(), env: { AMQP_RETRY_DELAY_MS: '0' } })).amqpRetryDelayMs, 0, '0 retries at once')
})

test('dev binds to loopback unless HOST says otherwise; start binds every interface', async () => {
  assert.is((await loadKernelConfig({ cwd: dir(), env: {} })).host, '0.0.0.0')
  assert.is((await loadKernelConfig({ cwd: dir(), env: {}, overrides: { dev: true } })).host, '127.0.0.1')
  assert.is((await loadKernelConfig({ cwd: dir(), env: { HOST: '0.0.0.0' }, overrides: { dev: true } })).host, '0.0.0.0')
})

test('setup retries: defaults, environment, a file section', async () => {
  assert.equal((await loadKernelConfig({ cwd: dir(), env: {} })).setup, { retryMs: 1000, retryMaxMs: 30_000, retryAttempts: 20 })
  assert.equal((await loadKernelConfig({ cwd: dir({ 'armature.config.json': '{"setup":{"retryAttempts":3}}' }), env: { SETUP_RETRY_MS: '0' } })).setup, {
    retryMs: 0,
    retryMaxMs: 30_000,
    retryAttempts: 3,
  })
})

test('precedence: defaults < config file < environment < overrides', async () => {
  const cwd = dir({ 'armature.config.json': JSON.stringify({ port: 9000, logLevel: 'debug', shutdown: { timeoutMs: 3000, order: { http: 30 } } }) })
  const fromFile = await loadKernelConfig({ cwd, env: {} })
  assert.is(fromFile.port, 9000)
  assert.is(fromFile.logLevel, 'debug')
  assert.is(fromFile.shutdown.timeoutMs, 3000)
  assert.equal(fromFile.shutdown.order, { http: 30 })
  const fromEnv = await loadKernelConfig({ cwd, env: { PORT: '9100', SHUTDOWN_TIMEOUT_MS: '2500' } })
  assert.is(fromEnv.port, 9100)
  assert.is(fromEnv.shutdown.timeoutMs, 2500)
  const overridden = await loadKernelConfig({ cwd, env: { PORT: '9100' }, overrides: { port: 9200 } })
  assert.is(overridden.port, 9200)
})

const rejects = async (fn: () => Promise<unknown>, pattern: RegExp) => {
  try {
    await fn()
  } catch (error) {
    assert.instance(error, ConfigError)
    assert.match((error as Error).message, pattern)
    return
  }
  assert.unreachable(`expected a ConfigError matching ${pattern}`)
}

test('config errors name the key and the value', async () => {
  await rejects(() => loadKernelConfig({ cwd: dir(), env: { PORT: 'abc' } }), /^PORT: "abc" is not a port/)
  await rejects(() => loadKernelConfig({ cwd: dir(), env: { PORT: '70000' } }), /^PORT: "70000"/)
  await rejects(() => loadKernelConfig({ cwd: dir(), env: { AMQP_RETRY_DELAY_MS: '-1' } }), /^AMQP_RETRY_DELAY_MS: "-1"/)
  await rejects(() => loadKernelConfig({ cwd: dir(), env: { AMQP_RETRY_DELAY_MS: '7200000' } }), /^AMQP_RETRY_DELAY_MS: "7200000" is over an hour/)
  await rejects(() => loadKernelConfig({ cwd: dir(), env: { LOG_LEVEL: 'loud' } }), /^LOG_LEVEL: "loud" is not a log level/)
  await rejects(() => loadKernelConfig({ cwd: dir({ 'armature.config.json': '{ "port": 80, }' }), env: {} }), /armature\.config\.json: invalid JSON/)
  await rejects(() => loadKernelConfig({ cwd: dir({ 'armature.config.json': '{ "prot": 80 }' }), env: {} }), /^prot: unknown option/)
  await rejects(
    () => loadKernelConfig({ cwd: dir({ 'armature.config.json': '{ "shutdown": { "order": { "http": "first" } } }' }), env: {} }),
    /^shutdown\.order\.http: "first" is not a phase number/,
  )
  await rejects(() => loadKernelConfig({ cwd: dir(), env: { TLS_CERT: '/nope.pem' } }), /TLS_CERT and TLS_KEY must be set together/)
})

test('plugin env names', () => {
  assert.is(pluginEnvName('cache', 'fsync'), 'CACHE_FSYNC')
  assert.is(pluginEnvName('rate-limit', 'maxBodyBytes'), 'RATE_LIMIT_MAX_BODY_BYTES')
})

test('plugin options: defaults < file < env, typed by the defaults', () => {
  const defaults = { fsync: 'everysec', every: 1000, enabled: true, tags: ['a'] }
  const resolved = resolvePluginConfig('cache', defaults, { fsync: 'always', every: 50 }, { CACHE_EVERY: '75', CACHE_ENABLED: 'false', CACHE_TAGS: 'x, y' })
  assert.equal(resolved, { fsync: 'always', every: 75, enabled: false, tags: ['x', 'y'] })
})

test('plugin option errors name the key', () => {
  const throws = (fn: () => unknown, pattern: RegExp) => assert.throws(fn, (error: Error) => error instanceof ConfigError && pattern.test(error.message))
  throws(() => resolvePluginConfig('cache', { every: 1 }, undefined, { CACHE_EVERY: 'soon' }), /^CACHE_EVERY: "soon" is not a number/)
  throws(() => resolvePluginConfig('cache', { every: 1 }, { every: 'soon' }, {}), /^plugins\.cache\.every: expected number, got string/)
  throws(() => resolvePluginConfig('cache', { every: 1 }, { evry: 2 }, {}), /^plugins\.cache\.evry: unknown option \(known: every\)/)
  throws(() => resolvePluginConfig('cache', { fn: (() => 1) as never }, undefined, {}), /^cache\.config\.fn: unsupported option type function/)
})

test('declared options: limits checked on the winning value, naming the variable the user set', () => {
  const shape = {
    poolSize: option.int(10, { min: 1, max: 100 }),
    fsync: option.enum(['always', 'everysec', 'no'], 'everysec'),
    url: option.url('', { protocols: ['postgres:'] }),
    every: option.duration(60_000, { min: 1 }),
    plain: 5,
  }
  const resolved = resolvePluginConfig('db', shape, { fsync: 'always' }, { DB_EVERY: '30s', DB_POOL_SIZE: '4' })
  assert.equal(resolved, { poolSize: 4, fsync: 'always', url: '', every: 30_000, plain: 5 })
  assert.is(resolvePluginConfig('db', shape, {}, { DB_EVERY: '7d' }).every, 7 * 86_400_000)
  const error = (fromFile: Record<string, unknown>, env: Record<string, string>) => {
    try {
      resolvePluginConfig('db', shape, fromFile, env)
    } catch (e) {
      assert.instance(e, ConfigError)
      return (e as Error).message
    }
    return assert.unreachable('no ConfigError')
  }
  assert.is(error({}, { DB_POOL_SIZE: '0' }), 'DB_POOL_SIZE=0: must be >= 1')
  assert.is(error({}, { DB_POOL_SIZE: '2.5' }), 'DB_POOL_SIZE=2.5: must be an integer')
  assert.is(error({ fsync: 'bogus' }, {}), 'plugins.db.fsync=bogus: must be one of always, everysec, no')
  assert.is(error({}, { DB_FSYNC: 'bogus' }), 'DB_FSYNC=bogus: must be one of always, everysec, no')
  assert.is(error({}, { DB_URL: 'mysql://root:hunter2@db/x' }), 'DB_URL=mysql://root:***@db/x: must be a postgres: URL or empty (got mysql:)')
  assert.is(error({}, { DB_EVERY: 'soon' }), 'DB_EVERY: soon is not a duration in ms (or 500ms, 30s, 5m, 1h, 7d) >= 1')
  assert.throws(() => option.int(0, { min: 1 }), /option default 0: must be >= 1/)
})

test('dependency order: each plugin after what it uses', () => {
  const { order, errors } = orderByUses(
    new Map([
      ['shortener', ['proxy', 'collections']],
      ['proxy', []],
      ['collections', []],
    ]),
  )
  assert.is(errors.size, 0)
  assert.ok(order.indexOf('proxy') < order.indexOf('shortener'))
  assert.ok(order.indexOf('collections') < order.indexOf('shortener'))
})

test('dependency cycle and missing plugin are named', () => {
  const { order, errors } = orderByUses(
    new Map([
      ['a', ['b']],
      ['b', ['a']],
      ['c', ['ghost']],
      ['d', ['c']],
      ['e', []],
    ]),
  )
  assert.equal(order, ['e'])
  assert.match(errors.get('a')!, /dependency cycle: (a -> b -> a|b -> a -> b)/)
  assert.match(errors.get('c')!, /uses 'ghost', which is not loaded/)
  assert.match(errors.get('d')!, /uses 'c', which cannot start/)
})

test.run()
