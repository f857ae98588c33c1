// A plugin whose dependency is down at boot comes back by itself (setup retried with backoff)
// and brings the plugins that use it along; while it runs, the health it reports decides
// /readyz. The dependency here is a real Redis behind a TCP proxy that the test cuts.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { startTcpProxy, startTestKernel, waitFor, type TcpProxy, type TestKernel } from '@armature/testing'
import { pluginsFolder, textPlugin, writePlugin } from './support.ts'

const redis = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379')
const dir = pluginsFolder()
// Connects in setup (failing setup when it cannot), then reports the connection's health.
const LINK = writePlugin(
  dir,
  'link',
  `import { definePlugin } from '@armature/core'
import { Hono } from 'hono'
import { connect } from 'node:net'
// Connected means Redis answered PING: a cut proxy accepts, then drops.
const open = (port) => new Promise((resolve, reject) => {
  const socket = connect(port, '127.0.0.1')
  const fail = () => { socket.destroy(); reject(new Error('redis did not answer PING')) }
  socket.once('connect', () => socket.write('PING\\r\\n'))
  socket.once('data', (d) => (String(d).startsWith('+PONG') ? resolve(socket) : fail()))
  socket.once('error', fail)
  socket.once('close', fail)
})
export default definePlugin({
  name: 'link',
  config: { port: 0 },
  async setup(ctx) {
    let socket = await open(ctx.config.port)
    const watch = (s) => {
      s.on('error', () => {})
      s.once('close', () => {
        if (ctx.signal.aborted) return
        ctx.health.report('redis', { ok: false, reason: 'connection closed' })
        let trying = false
        const retry = setInterval(async () => {
          if (trying) return
          trying = true
          try {
            socket = await open(ctx.config.port)
            clearInterval(retry)
            ctx.health.report('redis', { ok: true })
            watch(socket)
          } catch {}
          trying = false
        }, 50)
        ctx.signal.addEventListener('abort', () => clearInterval(retry))
      })
    }
    watch(socket)
    ctx.health.report('redis', { ok: true })
    ctx.onStop('socket', () => socket.destroy())
    ctx.provide({ ping: () => 'pong' })
    ctx.http.route(new Hono().get('/', (c) => c.text('linked')))
  },
})
`,
)
const USER = writePlugin(dir, 'user', textPlugin('user', 'user', '').replace("version: '1.0.0',", "version: '1.0.0',\n  uses: ['link'],"))

const kernels: TestKernel[] = []
const proxies: TcpProxy[] = []
test.after.each(async () => {
  await Promise.all(kernels.splice(0).map((k) => k.stop()))
  await Promise.all(proxies.splice(0).map((p) => p.close()))
})

async function bootCut(retryMs: number, adminToken?: string) {
  const proxy = await startTcpProxy({ host: redis.hostname, port: Number(redis.port || 6379) })
  proxies.push(proxy)
  proxy.cut()
  const k = await startTestKernel({
    plugins: [LINK, USER],
    env: { LINK_PORT: String(proxy.port), ...(adminToken ? { ADMIN_TOKEN: adminToken } : {}) },
    overrides: { setup: { retryMs, retryMaxMs: 200, retryAttempts: 100 } },
  })
  kernels.push(k)
  return { k, proxy }
}

const plugins = async (k: TestKernel) => ((await (await fetch(`${k.url}/_armature/plugins`)).json()) as { plugins: any[] }).plugins
const statusOf = async (k: TestKernel, name: string) => (await plugins(k)).find((p) => p.name === name)

test('a plugin that failed at boot for an outage is set up again once it ends, with the plugins that use it', async () => {
  const { k, proxy } = await bootCut(50)
  assert.is((await statusOf(k, 'link')).status, 'failed')
  assert.is((await statusOf(k, 'user')).status, 'failed')
  assert.match((await statusOf(k, 'user')).lastError, /uses 'link', which failed to start/)
  const ready = await fetch(`${k.url}/readyz`)
  assert.is(ready.status, 503)
  assert.match(((await ready.json()) as { reason: string }).reason, /failed plugins: link, user/)
  // Still down after a few attempts: the kernel keeps trying, with growing waits.
  await waitFor(async () => (await logMessages(k)).filter((m) => /setup attempt \d+ of/.test(m)).length >= 2, { what: 'two retries logged' })
  proxy.restore()
  await waitFor(async () => (await statusOf(k, 'user')).status === 'running', { what: 'user running after link came back' })
  assert.is((await statusOf(k, 'link')).status, 'running')
  assert.is((await statusOf(k, 'link')).lastError, null)
  assert.is(await (await fetch(`${k.url}/user`)).text(), 'user gen 1')
  assert.is((await fetch(`${k.url}/readyz`)).status, 200)
})

test('health a plugin reports decides /readyz and shows in the plugin list', async () => {
  const { k, proxy } = await bootCut(50)
  proxy.restore()
  await waitFor(async () => (await fetch(`${k.url}/readyz`)).status === 200, { what: 'ready' })
  assert.equal(Object.keys((await statusOf(k, 'link')).health), ['redis'])
  assert.is((await statusOf(k, 'link')).health.redis.ok, true)
  proxy.cut()
  const down = await waitFor(
    async () => {
      const res = await fetch(`${k.url}/readyz`)
      return res.status === 503 ? ((await res.json()) as { reason: string }) : undefined
    },
    { what: 'readyz 503' },
  )
  assert.is(down.reason, 'not healthy: link redis: connection closed')
  assert.equal((await statusOf(k, 'link')).health.redis.ok, false)
  assert.is((await statusOf(k, 'link')).health.redis.reason, 'connection closed')
  // The plugin still serves: only readiness changed.
  assert.is(await (await fetch(`${k.url}/link`)).text(), 'linked')
  proxy.restore()
  await waitFor(async () => (await fetch(`${k.url}/readyz`)).status === 200, { what: 'ready again' })
  const log = await logMessages(k)
  assert.is(log.filter((m) => m === 'redis is not ok: connection closed').length, 1)
  assert.is(log.filter((m) => m === 'redis is ok again').length, 1)
})

test('without retries, reloading the plugin that was down also sets up the plugins that use it', async () => {
  const { k, proxy } = await bootCut(0, 't0ken')
  proxy.restore()
  assert.is((await statusOf(k, 'link')).status, 'failed')
  const res = await fetch(`${k.url}/_armature/plugins/link/reload`, { method: 'POST', headers: { authorization: 'Bearer t0ken' } })
  assert.is(res.status, 200)
  await waitFor(async () => (await statusOf(k, 'user')).status === 'running', { what: 'user running after the reload of link' })
})

test('undoing a broken edit clears the error of the generation that kept serving', async () => {
  const src = pluginsFolder()
  const file = join(writePlugin(src, 'undo', textPlugin('undo', 'fine')), 'index.ts')
  const good = textPlugin('undo', 'fine')
  const k = await startTestKernel({ plugins: [join(src, 'undo')] })
  kernels.push(k)
  writeFileSync(file, good + '\nthis is not typescript(')
  const broken = await k.kernel.reload('undo')
  assert.is(broken.status, 'failed')
  assert.match((await statusOf(k, 'undo')).lastError, /build failed|Expected/)
  writeFileSync(file, good)
  const undone = await k.kernel.reload('undo')
  assert.is(undone.status, 'unchanged')
  assert.is((await statusOf(k, 'undo')).lastError, null)
})

/** The kernel's log messages so far, from its JSON log file. */
async function logMessages(k: TestKernel): Promise<string[]> {
  const { readFileSync } = await import('node:fs')
  return readFileSync(k.logFile, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => String(JSON.parse(line).msg))
}

test.run()
