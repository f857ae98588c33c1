// The kernel as a child process: SIGTERM with requests in flight, a second signal, config errors.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { request, Agent } from 'node:http'
import { connect, type Socket } from 'node:net'
import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ARMATURE_BIN, spawnKernel, waitFor } from '@armature/testing'
import { pluginsFolder, writePlugin } from './support.ts'

const dir = pluginsFolder()
writePlugin(
  dir,
  'slow',
  `import { definePlugin, Phase } from '@armature/core'
import { Hono } from 'hono'
export default definePlugin({ name: 'slow', config: { hangOnStop: false }, setup(ctx) {
  ctx.http.route(new Hono().get('/', async (c) => {
    ctx.log.info('slow request started')
    await new Promise((r) => setTimeout(r, Number(c.req.query('ms') ?? 0)))
    return c.text('done')
  }))
  ctx.onStop('flush', () => ctx.config.hangOnStop ? new Promise(() => {}) : undefined, { phase: Phase.Flush, timeoutMs: 20000 })
} })`,
)

function get(url: string, agent?: Agent): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    request(url, { agent }, (res) => {
      let body = ''
      res.on('data', (d) => (body += d))
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }))
    })
      .on('error', reject)
      .end()
  })
}

function port(url: string): number {
  return Number(new URL(url).port)
}

/** A raw keep-alive connection that has answered one request and now sits idle. */
async function idleSocket(url: string): Promise<{ socket: Socket; closed: Promise<void> }> {
  const socket = connect(port(url), '127.0.0.1')
  const closed = new Promise<void>((r) => socket.once('close', () => r()))
  let data = ''
  socket.on('data', (d) => (data += d))
  socket.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n')
  await waitFor(() => data.includes('\r\n\r\nok'), { what: 'healthz answer' })
  return { socket, closed }
}

function refused(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port(url), '127.0.0.1')
    socket.once('connect', () => {
      socket.destroy()
      resolve(false)
    })
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'))
  })
}

test('SIGTERM: in-flight request completes, idle sockets close, new connections refused, exit 0', async () => {
  const k = await spawnKernel({ args: ['--plugins', dir] })
  const idle = await Promise.all(Array.from({ length: 5 }, () => idleSocket(k.url)))
  const agent = new Agent({ keepAlive: true })
  const slow = get(`${k.url}/slow?ms=1500`, agent)
  await waitFor(() => k.messages().includes('slow request started'), { what: 'the slow request to reach the plugin' })
  k.child.kill('SIGTERM')
  await Promise.all(idle.map((s) => s.closed))
  assert.ok(await waitFor(() => refused(k.url), { what: 'the listener to refuse connections' }))
  const answer = await slow
  assert.is(answer.status, 200)
  assert.is(answer.body, 'done')
  assert.is(answer.headers.connection, 'close')
  const { code } = await k.exited
  assert.is(code, 0)
  const messages = k.messages()
  const phases = messages.filter((m) => m.startsWith('shutdown phase '))
  assert.equal(
    phases.map((m) => m.split(' done')[0]),
    ['shutdown phase 0 Ready', 'shutdown phase 10 Ingress', 'shutdown phase 30 Flush', 'shutdown phase 50 Final'],
  )
  assert.ok(messages.some((m) => m.startsWith('shutdown order: 0 Ready [readiness] -> 10 Ingress [http] -> 30 Flush [plugin:slow:flush] -> 50 Final [log]')))
  assert.is(k.stderr(), '')
  assert.not.match(k.lines.join('\n'), /\n\s+at /)
  agent.destroy()
})

test('readiness is 503 from the moment shutdown begins, while listeners still accept', async () => {
  const k = await spawnKernel({ args: ['--plugins', dir], env: { SHUTDOWN_READY_DELAY_MS: '1500' } })
  assert.is((await get(`${k.url}/readyz`)).status, 200)
  k.child.kill('SIGTERM')
  const notReady = await waitFor(
    async () => {
      const answer = await get(`${k.url}/readyz`)
      return answer.status === 503 ? answer : undefined
    },
    { what: 'readyz to answer 503' },
  )
  assert.match(notReady.body, /shutting down/)
  assert.is((await get(`${k.url}/healthz`)).status, 200)
  assert.is((await k.exited).code, 0)
})

test('a user-set order is followed and logged', async () => {
  const config = join(dir, 'order.json')
  writeFileSync(config, JSON.stringify({ shutdown: { order: { 'plugin:slow': 5, http: 40 } } }))
  const k = await spawnKernel({ args: ['--plugins', dir, '--config', config] })
  k.child.kill('SIGTERM')
  assert.is((await k.exited).code, 0)
  assert.ok(
    k.messages().some((m) => m.startsWith('shutdown order: 0 Ready [readiness] -> 5 [plugin:slow:flush] -> 40 Egress [http] -> 50 Final [log]')),
    k.messages().join('\n'),
  )
})

test('a second signal exits at once with 130', async () => {
  const k = await spawnKernel({ args: ['--plugins', dir], env: { SLOW_HANG_ON_STOP: 'true' } })
  k.child.kill('SIGTERM')
  await waitFor(() => k.messages().some((m) => m.startsWith('shutdown phase 10 Ingress')), { what: 'ingress to stop' })
  k.child.kill('SIGINT')
  assert.is((await k.exited).code, 130)
})

test('a config error prints one line naming the key and exits 1 before listening', async () => {
  const child = spawn(process.execPath, [ARMATURE_BIN, 'start', '--plugins', dir], { env: { ...process.env, PORT: 'eighty' }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  let stdout = ''
  child.stderr.on('data', (d) => (stderr += d))
  child.stdout.on('data', (d) => (stdout += d))
  const code = await new Promise((r) => child.on('exit', r))
  assert.is(code, 1)
  assert.is(stderr, 'armature: config error: PORT: "eighty" is not a port (an integer 0-65535)\n')
  assert.not.match(stdout, /listening/)
})

test('--help prints usage', async () => {
  const child = spawn(process.execPath, [ARMATURE_BIN, 'start', '--help'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  child.stdout.on('data', (d) => (stdout += d))
  assert.is(await new Promise((r) => child.on('exit', r)), 0)
  assert.match(stdout, /Usage: armature start \[--plugins DIR\] \[--watch\] \[--config FILE\]/)
})

test.run()
