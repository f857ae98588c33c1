// ctx.net.listen: a plugin's own TCP port, opened once, kept across reloads (new connections
// reach the new generation), listed in the stop plan, closed at stop and at unload.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { connect } from 'node:net'
import { once } from 'node:events'
import { rmSync } from 'node:fs'
import { startTestKernel, waitFor } from '@armature/testing'
import { pluginsFolder, writePlugin } from './support.ts'

const dir = pluginsFolder()
const LINES = writePlugin(
  dir,
  'lines',
  `import { definePlugin } from '@armature/core'
import { Hono } from 'hono'
export default definePlugin({
  name: 'lines',
  async setup(ctx) {
    const address = await ctx.net.listen('wire', { port: 0 }, (socket) => {
      socket.on('data', (d) => socket.write('gen ' + ctx.generation + ': ' + String(d)))
      ctx.signal.addEventListener('abort', () => socket.end())
    })
    ctx.http.route(new Hono().get('/port', (c) => c.text(String(address.port))))
  },
})
`,
)

/** Sends one line on a fresh connection and answers the reply. */
async function ask(port: number, text: string): Promise<string> {
  const socket = connect(port, '127.0.0.1')
  await once(socket, 'connect')
  socket.write(text)
  const [reply] = await once(socket, 'data')
  socket.destroy()
  return String(reply)
}

const refused = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1')
    socket.once('connect', () => (socket.destroy(), resolve(false)))
    socket.once('error', () => resolve(true))
  })

test('one port across reloads; the stop closes it', async () => {
  const k = await startTestKernel({ plugins: [LINES] })
  try {
    const port = Number(await (await fetch(`${k.url}/lines/port`)).text())
    assert.is(await ask(port, 'hi'), 'gen 1: hi')
    assert.is((await k.kernel.reload('lines', { force: true })).status, 'swapped')
    assert.is(Number(await (await fetch(`${k.url}/lines/port`)).text()), port)
    assert.is(await ask(port, 'again'), 'gen 2: again')
    const plugin = (await (await fetch(`${k.url}/_armature/plugins`)).json()) as { plugins: Array<{ listeners: Array<{ name: string; address: string }> }> }
    assert.equal(plugin.plugins[0]!.listeners, [{ name: 'wire', address: `127.0.0.1:${port}` }])
    const ingress = k.kernel.stopPlan().phases.find((p) => p.label.includes('Ingress'))
    assert.ok(ingress?.entries.some((e) => e.id === 'listener:lines:wire'))
    await k.kernel.stop()
    assert.ok(await refused(port), 'closed after the stop')
  } finally {
    await k.stop()
  }
})

test('a plugin whose folder is removed closes its listener', async () => {
  const own = pluginsFolder()
  writePlugin(own, 'lines', (await import('node:fs')).readFileSync(`${LINES}/index.ts`, 'utf8'))
  const k = await startTestKernel({ pluginsDir: own })
  try {
    const port = Number(await (await fetch(`${k.url}/lines/port`)).text())
    rmSync(`${own}/lines`, { recursive: true })
    assert.is((await k.kernel.reload('lines')).status, 'unloaded')
    await waitFor(() => refused(port), { what: 'the listener to close' })
  } finally {
    await k.stop()
  }
})

test.run()
