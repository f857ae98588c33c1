// ctx.keep: a resource opened by the first generation, handed to the next ones, closed after the
// last one that holds it stops; a failed open is not kept.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { readFileSync } from 'node:fs'
import { startTestKernel } from '@armature/testing'
import { pluginsFolder, writePlugin } from './support.ts'

const dir = pluginsFolder()
const POOL = writePlugin(
  dir,
  'pool',
  `import { definePlugin } from '@armature/core'
import { Hono } from 'hono'
let opened = 0
export default definePlugin({
  name: 'pool',
  config: { fail: false },
  async setup(ctx) {
    const pool = await ctx.keep('pool', () => {
      if (ctx.config.fail) throw new Error('cannot open the pool')
      opened++
      ctx.log.info('pool opened ' + opened)
      return { id: opened, by: ctx.generation }
    }, (p) => ctx.log.info('pool closed ' + p.id))
    ctx.http.route(new Hono().get('/', (c) => c.json({ generation: ctx.generation, pool })))
  },
})
`,
)

const messages = (file: string) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => String(JSON.parse(l).msg))

test('reloads get the same value back; the stop closes it once, after the last generation', async () => {
  const k = await startTestKernel({ plugins: [POOL] })
  try {
    assert.equal(await (await fetch(`${k.url}/pool`)).json(), { generation: 1, pool: { id: 1, by: 1 } })
    for (const generation of [2, 3]) {
      assert.is((await k.kernel.reload('pool', { force: true })).status, 'swapped')
      assert.equal(await (await fetch(`${k.url}/pool`)).json(), { generation, pool: { id: 1, by: 1 } })
    }
    const egress = k.kernel.stopPlan().phases.find((p) => p.label.includes('Egress'))
    assert.ok(egress?.entries.some((e) => e.id === 'plugin:pool:close pool'))
    // The kernel's own stop (the test helper's also removes the log folder).
    await k.kernel.stop()
    const log = messages(k.logFile)
    assert.equal(
      log.filter((m) => m.startsWith('pool opened')),
      ['pool opened 1'],
    )
    assert.equal(
      log.filter((m) => m.startsWith('pool closed')),
      ['pool closed 1'],
    )
  } finally {
    await k.stop()
  }
})

test('a failed open is not kept: setup fails, and the next try opens anew', async () => {
  const k = await startTestKernel({ plugins: [POOL], env: { POOL_FAIL: 'true' }, overrides: { setup: { retryMs: 0 } } })
  try {
    const list = (await (await fetch(`${k.url}/_armature/plugins`)).json()) as { plugins: Array<{ status: string; lastError: string }> }
    assert.is(list.plugins[0]!.status, 'failed')
    assert.match(list.plugins[0]!.lastError, /cannot open the pool/)
  } finally {
    await k.stop()
  }
})

test.run()
