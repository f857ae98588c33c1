import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { join } from 'node:path'
import { startTestKernel, type TestKernel } from '@armature/testing'
import { pluginsFolder, textPlugin, writePlugin } from './support.ts'

const HELLO = join(import.meta.dirname, '../../plugins/hello')
const kernels: TestKernel[] = []
const boot = async (...args: Parameters<typeof startTestKernel>) => {
  const k = await startTestKernel(...args)
  kernels.push(k)
  return k
}
test.after.each(async () => {
  await Promise.all(kernels.splice(0).map((k) => k.stop()))
})

test('kernel routes: healthz, readyz, metrics, plugin list', async () => {
  const k = await boot({ plugins: [HELLO] })
  assert.is((await fetch(`${k.url}/healthz`)).status, 200)
  const ready = await fetch(`${k.url}/readyz`)
  assert.is(ready.status, 200)
  assert.is(await (await fetch(`${k.url}/hello`)).text(), 'hello from generation 1\n')
  const metrics = await (await fetch(`${k.url}/metrics`)).text()
  assert.match(metrics, /armature_http_requests_total\{plugin="hello",route="\/hello",method="GET",status="200"\} 1/)
  assert.match(metrics, /armature_http_request_duration_seconds_bucket\{le="0.005",plugin="hello",route="\/hello"\}/)
  assert.match(metrics, /process_resident_memory_bytes/)
  const list = (await (await fetch(`${k.url}/_armature/plugins`)).json()) as { plugins: any[] }
  assert.equal(
    list.plugins.map((p) => [p.name, p.status, p.generation, p.routes]),
    [['hello', 'running', 1, ['/hello']]],
  )
  assert.ok(Date.parse(list.plugins[0].loadedAt))
  assert.is((await fetch(`${k.url}/nowhere`)).status, 404)
})

test('the start-up log names the address as bound', async () => {
  const k = await boot({ plugins: [HELLO], env: { HOST: '0.0.0.0' } })
  const { readFileSync } = await import('node:fs')
  const lines = readFileSync(k.logFile, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l).msg as string)
  assert.ok(lines.includes(`http listening on http://0.0.0.0:${k.kernel.addresses.http!.port}`), lines.join('\n'))
})

test('an option outside its declared limits stops the boot with one line naming the variable', async () => {
  const CACHE = join(import.meta.dirname, '../../plugins/cache')
  const DB = join(import.meta.dirname, '../../plugins/db')
  for (const [plugins, env, message] of [
    [[CACHE], { CACHE_FSYNC: 'bogus' }, 'CACHE_FSYNC=bogus: must be one of always, everysec, no'],
    [[DB], { DB_POOL_SIZE: '0' }, 'DB_POOL_SIZE=0: must be >= 1'],
  ] as const) {
    try {
      await boot({ plugins: [...plugins], env })
      assert.unreachable(`${JSON.stringify(env)} booted`)
    } catch (error) {
      assert.is((error as Error).name, 'ConfigError')
      assert.is((error as Error).message, message)
    }
  }
})

test('plugin options come from the environment, typed by defaults', async () => {
  const k = await boot({ plugins: [HELLO], env: { HELLO_GREETING: 'bonjour' } })
  assert.is(await (await fetch(`${k.url}/hello`)).text(), 'bonjour from generation 1\n')
})

test('admin routes: 403 without ADMIN_TOKEN, 401 with a wrong token, 400 bad name, 404 unknown', async () => {
  const open = await boot({ plugins: [HELLO] })
  const denied = await fetch(`${open.url}/_armature/plugins/hello/reload`, { method: 'POST' })
  assert.is(denied.status, 403)
  assert.match(((await denied.json()) as { error: string }).error, /set ADMIN_TOKEN/)
  const k = await boot({ plugins: [HELLO], env: { ADMIN_TOKEN: 's3cret' } })
  const post = (name: string, token?: string) => fetch(`${k.url}/_armature/plugins/${name}/reload`, { method: 'POST', headers: token ? { authorization: `Bearer ${token}` } : {} })
  assert.is((await post('hello')).status, 401)
  assert.is((await post('hello', 'wrong')).status, 401)
  assert.is((await post('Bad_Name', 's3cret')).status, 400)
  assert.is((await post('..%2F..%2Fetc', 's3cret')).status, 400)
  assert.is((await post('ghost', 's3cret')).status, 404)
  const ok = await post('hello', 's3cret')
  assert.is(ok.status, 200)
  assert.equal(await ok.json(), { name: 'hello', status: 'swapped', generation: 2 })
  assert.is(await (await fetch(`${k.url}/hello`)).text(), 'hello from generation 2\n')
})

test('ctx.use: a plugin starts after what it uses and gets its API', async () => {
  const dir = pluginsFolder()
  writePlugin(
    dir,
    'words',
    `import { definePlugin } from '@armature/core'
export default definePlugin({ name: 'words', setup(ctx) { ctx.provide({ word: () => 'from words' }) } })`,
  )
  writePlugin(
    dir,
    'speaker',
    `import { definePlugin } from '@armature/core'
import { Hono } from 'hono'
export default definePlugin({ name: 'speaker', uses: ['words'], setup(ctx) {
  const words = ctx.use<{ word(): string }>('words')
  ctx.http.route(new Hono().get('/', (c) => c.text(words.word())))
} })`,
  )
  const k = await boot({ pluginsDir: dir })
  assert.is(await (await fetch(`${k.url}/speaker`)).text(), 'from words')
})

test('a cycle and a missing dependency are named; the other plugins run', async () => {
  const dir = pluginsFolder()
  const dep = (name: string, uses: string[]) => `import { definePlugin } from '@armature/core'
export default definePlugin({ name: '${name}', uses: ${JSON.stringify(uses)}, setup() {} })`
  writePlugin(dir, 'a', dep('a', ['b']))
  writePlugin(dir, 'b', dep('b', ['a']))
  writePlugin(dir, 'c', dep('c', ['ghost']))
  writePlugin(dir, 'ok', textPlugin('ok', 'fine'))
  const k = await boot({ pluginsDir: dir })
  const list = (await (await fetch(`${k.url}/_armature/plugins`)).json()) as { plugins: any[] }
  const by = Object.fromEntries(list.plugins.map((p) => [p.name, p]))
  assert.is(by.a.status, 'failed')
  assert.match(by.a.lastError, /dependency cycle: (a -> b -> a|b -> a -> b)/)
  assert.match(by.c.lastError, /plugin 'c': uses 'ghost', which is not loaded/)
  assert.is(by.ok.status, 'running')
  assert.is((await fetch(`${k.url}/ok`)).status, 200)
  assert.is((await fetch(`${k.url}/readyz`)).status, 503)
})

test('two plugins claiming one base: the second fails with a clear error', async () => {
  const dir = pluginsFolder()
  writePlugin(dir, 'first', textPlugin('first', 'one').replace('ctx.http.route(new Hono()', 'ctx.http.route(new Hono()').replace(')))\n', ')), { base: "/shared" })\n'))
  writePlugin(dir, 'second', textPlugin('second', 'two').replace(')))\n', ')), { base: "/shared" })\n'))
  const k = await boot({ pluginsDir: dir })
  const list = (await (await fetch(`${k.url}/_armature/plugins`)).json()) as { plugins: any[] }
  const second = list.plugins.find((p) => p.name === 'second')
  assert.is(second.status, 'failed')
  assert.match(second.lastError, /route base \/shared is already claimed by plugin 'first'/)
  assert.match(await (await fetch(`${k.url}/shared`)).text(), /^one gen 1/)
})

test('a bad plugin name and a name mismatch are refused', async () => {
  const dir = pluginsFolder()
  writePlugin(dir, 'Bad_Name', textPlugin('bad', 'x'))
  writePlugin(dir, 'mismatch', textPlugin('other', 'x'))
  writePlugin(dir, 'good', textPlugin('good', 'fine'))
  const k = await boot({ pluginsDir: dir })
  const list = (await (await fetch(`${k.url}/_armature/plugins`)).json()) as { plugins: any[]; rejected: any[] }
  assert.match(list.rejected[0].error, /invalid plugin name "Bad_Name"; names must match \[a-z0-9-\]\+/)
  const mismatch = list.plugins.find((p) => p.name === 'mismatch')
  assert.match(mismatch.lastError, /definePlugin name 'other' does not match its folder or file name 'mismatch'/)
  assert.is((await fetch(`${k.url}/good`)).status, 200)
})

test('a throwing setup fails that plugin only, and its stop entries run', async () => {
  const dir = pluginsFolder()
  writePlugin(
    dir,
    'broken',
    `import { definePlugin } from '@armature/core'
export default definePlugin({ name: 'broken', setup(ctx) {
  ctx.onStop('cleanup', () => { (globalThis as any).brokenCleaned = true })
  throw new Error('no database configured')
} })`,
  )
  writePlugin(dir, 'good', textPlugin('good', 'fine'))
  const k = await boot({ pluginsDir: dir })
  const list = (await (await fetch(`${k.url}/_armature/plugins`)).json()) as { plugins: any[] }
  assert.match(list.plugins.find((p) => p.name === 'broken').lastError, /plugin 'broken': setup failed: no database configured/)
  assert.is((globalThis as any).brokenCleaned, true)
  assert.is((await fetch(`${k.url}/good`)).status, 200)
})

test('a plugin that needs a queue with none configured fails with a clear message; the others run', async () => {
  const dir = pluginsFolder()
  writePlugin(
    dir,
    'consumer',
    `import { definePlugin } from '@armature/core'
export default definePlugin({ name: 'consumer', async setup(ctx) { await ctx.amqp.consume('jobs', () => {}) } })`,
  )
  writePlugin(dir, 'good', textPlugin('good', 'fine'))
  const k = await boot({ pluginsDir: dir, env: { AMQP_URL: undefined } })
  const list = (await (await fetch(`${k.url}/_armature/plugins`)).json()) as { plugins: any[] }
  const consumer = list.plugins.find((p) => p.name === 'consumer')
  assert.is(consumer.status, 'failed')
  assert.match(
    consumer.lastError,
    /plugin 'consumer': needs a queue, but no queue backend is configured: set AMQP_URL .* or load a plugin that provides a queue backend, such as pubsub/,
  )
  assert.is((await fetch(`${k.url}/good`)).status, 200)
})

test('plugin stop entries run in phase order at stop, signal aborts after ingress', async () => {
  const dir = pluginsFolder()
  writePlugin(
    dir,
    'phased',
    `import { definePlugin, Phase } from '@armature/core'
const events = ((globalThis as any).phasedEvents = [] as string[])
export default definePlugin({ name: 'phased', setup(ctx) {
  ctx.signal.addEventListener('abort', () => events.push('abort'))
  ctx.onStop('egress', () => events.push('egress'), { phase: Phase.Egress })
  ctx.onStop('flush', () => events.push('flush'), { phase: Phase.Flush })
  ctx.onStop('work', () => events.push('work'), { phase: Phase.Work })
} })`,
  )
  const k = await boot({ pluginsDir: dir })
  const report = await k.stop()
  assert.ok(report.ok)
  assert.equal((globalThis as any).phasedEvents, ['abort', 'work', 'flush', 'egress'])
  assert.equal(
    report.order.map((p) => p.phase),
    [0, 10, 20, 30, 40, 50],
  )
})

test('a stop entry withdrawn with the function onStop returns does not run', async () => {
  const dir = pluginsFolder()
  writePlugin(
    dir,
    'temp',
    `import { definePlugin } from '@armature/core'
const ran = ((globalThis as any).tempRan = [] as string[])
export default definePlugin({ name: 'temp', setup(ctx) {
  const withdraw = ctx.onStop('gone', () => ran.push('gone'))
  ctx.onStop('kept', () => ran.push('kept'))
  withdraw()
} })`,
  )
  const k = await boot({ pluginsDir: dir })
  const report = await k.stop()
  assert.equal((globalThis as any).tempRan, ['kept'])
  assert.not.ok(report.outcomes.has('plugin:temp:gone'))
})

test('a config error in a plugin option stops the boot', async () => {
  try {
    await startTestKernel({ plugins: [HELLO], env: { HELLO_GREETING: undefined }, overrides: { plugins: { hello: { greting: 'x' } } } })
    assert.unreachable('boot should fail')
  } catch (error) {
    assert.match((error as Error).message, /^plugins\.hello\.greting: unknown option \(known: greeting\)/)
  }
})

test.run()
