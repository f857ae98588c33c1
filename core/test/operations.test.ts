// Kernel operations a plugin declares (`operations`) and calls through ctx.ops: reload a
// plugin, set the log level, read the plugin table. Undeclared ones, and calls during setup, refuse.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { readFileSync } from 'node:fs'
import { startTestKernel, type TestKernel } from '@armature/testing'
import { pluginsFolder, textPlugin, writePlugin } from './support.ts'

const dir = pluginsFolder()
const CONTROL = writePlugin(
  dir,
  'control',
  `import { definePlugin } from '@armature/core'
import { Hono } from 'hono'
export default definePlugin({
  name: 'control',
  operations: ['reload', 'setLogLevel', 'plugins'],
  setup(ctx) {
    let duringSetup = ''
    try { ctx.ops.plugins() } catch (error) { duringSetup = error.message }
    ctx.http.route(new Hono()
      .get('/during-setup', (c) => c.text(duringSetup))
      .post('/reload/:name', async (c) => c.json(await ctx.ops.reload(c.req.param('name'))))
      .post('/level/:level', (c) => { ctx.ops.setLogLevel(c.req.param('level')); return c.text('ok') })
      .get('/plugins', (c) => c.json(ctx.ops.plugins())))
  },
})
`,
)
const NOSY = writePlugin(
  dir,
  'nosy',
  `import { definePlugin } from '@armature/core'
import { Hono } from 'hono'
export default definePlugin({
  name: 'nosy',
  setup(ctx) {
    ctx.http.route(new Hono().get('/', (c) => { ctx.log.debug('nosy asked'); try { ctx.ops.setLogLevel('trace'); return c.text('allowed') } catch (error) { return c.text(error.message, 403) } }))
  },
})
`,
)
const TARGET = writePlugin(dir, 'target', textPlugin('target', 'target'))

let k: TestKernel
test.before(async () => {
  k = await startTestKernel({ plugins: [CONTROL, NOSY, TARGET] })
})
test.after(() => k.stop().then(() => undefined))

test('a declared operation reloads another plugin', async () => {
  const result = (await (await fetch(`${k.url}/control/reload/target`, { method: 'POST' })).json()) as { status: string; generation: number }
  assert.equal([result.status, result.generation], ['swapped', 2])
  assert.is(await (await fetch(`${k.url}/target`)).text(), 'target gen 2')
})

test('the plugin table is the one /_armature/plugins answers', async () => {
  const table = (await (await fetch(`${k.url}/control/plugins`)).json()) as { plugins: Array<{ name: string }> }
  const direct = (await (await fetch(`${k.url}/_armature/plugins`)).json()) as { plugins: Array<{ name: string }> }
  assert.equal(
    table.plugins.map((p) => p.name),
    direct.plugins.map((p) => p.name),
  )
})

test('setting the log level reaches the loggers plugins already hold', async () => {
  const asked = () =>
    readFileSync(k.logFile, 'utf8')
      .split('\n')
      .filter((l) => l.includes('"msg":"nosy asked"')).length
  // nosy's logger was made at boot, at info: its debug line is dropped...
  await fetch(`${k.url}/nosy`)
  assert.is(asked(), 0)
  assert.is((await fetch(`${k.url}/control/level/debug`, { method: 'POST' })).status, 200)
  // ...and written once the level is debug.
  await fetch(`${k.url}/nosy`)
  assert.is(asked(), 1)
  assert.is((await fetch(`${k.url}/control/level/loud`, { method: 'POST' })).status, 500)
  await fetch(`${k.url}/control/level/info`, { method: 'POST' })
  assert.match(readFileSync(k.logFile, 'utf8'), /log level set to debug \(was info\)/)
})

test('undeclared operations and calls during setup refuse with a message naming the fix', async () => {
  const nosy = await fetch(`${k.url}/nosy`)
  assert.is(nosy.status, 403)
  assert.is(await nosy.text(), "plugin 'nosy': ctx.ops.setLogLevel needs operations: ['setLogLevel'] in definePlugin")
  assert.is(await (await fetch(`${k.url}/control/during-setup`)).text(), "plugin 'control': ctx.ops.plugins is only available once setup has returned")
})

test.run()
