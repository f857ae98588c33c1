// ctx.http.intercept: a plugin's middleware in front of another plugin's routes, ordered, and
// following reloads of either side; the target plugin's code knows nothing of it.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { startTestKernel, type TestKernel } from '@armature/testing'
import { pluginsFolder, writePlugin } from './support.ts'

const dir = pluginsFolder()
const TARGET = writePlugin(
  dir,
  'target',
  `import { definePlugin } from '@armature/core'
import { Hono } from 'hono'
let hits = 0
export default definePlugin({
  name: 'target',
  setup(ctx) {
    ctx.http.route(new Hono().get('/', (c) => c.text('target gen ' + ctx.generation)).get('/hits', (c) => c.text(String(hits))).get('/work', (c) => { hits++; return c.text('done') }))
  },
})
`,
)
const OTHER = writePlugin(
  dir,
  'other',
  `import { definePlugin } from '@armature/core'
import { Hono } from 'hono'
export default definePlugin({ name: 'other', setup(ctx) { ctx.http.route(new Hono().get('/', (c) => c.text('other'))) } })
`,
)
// A limiter: three /target/work requests per generation, then 429 without reaching the target.
const GUARD = writePlugin(
  dir,
  'guard',
  `import { definePlugin, HttpError } from '@armature/core'
export default definePlugin({
  name: 'guard',
  setup(ctx) {
    let allowed = 3
    ctx.http.intercept('/target/work', async (c, next) => {
      if (c.req.header('x-explode')) throw new HttpError(418, 'the guard refuses teapots', { headers: { 'x-why': 'teapot' } })
      if (allowed-- <= 0) return c.json({ error: 'slow down' }, 429, { 'retry-after': '1' })
      await next()
      c.header('x-chain', (c.res.headers.get('x-chain') ?? '') + 'guard' + ctx.generation)
    })
  },
})
`,
)
const TAGGER = writePlugin(
  dir,
  'tagger',
  `import { definePlugin } from '@armature/core'
export default definePlugin({
  name: 'tagger',
  setup(ctx) {
    ctx.http.intercept('/target/*', async (c, next) => {
      await next()
      c.header('x-chain', (c.res.headers.get('x-chain') ?? '') + ',tagger')
    }, { order: -1 })
  },
})
`,
)

let k: TestKernel
test.before(async () => {
  k = await startTestKernel({ plugins: [TARGET, OTHER, GUARD, TAGGER] })
})
test.after(() => k.stop().then(() => undefined))

const get = (path: string, headers: Record<string, string> = {}) => fetch(`${k.url}${path}`, { headers })

test('the interceptors run in order around the target; past its limit the guard answers alone', async () => {
  for (let i = 0; i < 3; i++) {
    const res = await get('/target/work')
    assert.is(res.status, 200)
    assert.is(await res.text(), 'done')
    // tagger (order -1) is outside guard: guard adds its mark first, tagger after.
    assert.is(res.headers.get('x-chain'), 'guard1,tagger')
  }
  const refused = await get('/target/work')
  assert.is(refused.status, 429)
  assert.is(refused.headers.get('retry-after'), '1')
  assert.is(await (await get('/target/hits')).text(), '3')
})

test('paths no pattern matches are not intercepted', async () => {
  const res = await get('/other')
  assert.is(await res.text(), 'other')
  assert.is(res.headers.get('x-chain'), null)
  // As in Hono, /target/* covers /target itself.
  assert.is((await get('/target')).headers.get('x-chain'), ',tagger')
})

test('an HttpError thrown by an interceptor answers with its status', async () => {
  const res = await get('/target/work', { 'x-explode': '1' })
  assert.is(res.status, 418)
  assert.is(res.headers.get('x-why'), 'teapot')
  assert.equal(await res.json(), { error: 'the guard refuses teapots' })
})

test('a reload of the target keeps it guarded; a reload of the guard brings its new code in', async () => {
  assert.is((await k.kernel.reload('target', { force: true })).status, 'swapped')
  assert.is(await (await get('/target')).text(), 'target gen 2')
  assert.is((await get('/target/work')).status, 429)
  assert.is((await k.kernel.reload('guard', { force: true })).status, 'swapped')
  const res = await get('/target/work')
  assert.is(res.status, 200)
  assert.is(res.headers.get('x-chain'), 'guard2,tagger')
})

test('kernel paths cannot be intercepted', async () => {
  const BAD = writePlugin(
    dir,
    'bad',
    `import { definePlugin } from '@armature/core'
export default definePlugin({ name: 'bad', setup(ctx) { ctx.http.intercept('/_armature/plugins', async (c) => c.text('mine')) } })
`,
  )
  const other = await startTestKernel({ plugins: [BAD], overrides: { setup: { retryMs: 0 } } })
  try {
    const list = (await (await fetch(`${other.url}/_armature/plugins`)).json()) as { plugins: Array<{ name: string; status: string; lastError: string }> }
    assert.is(list.plugins[0]!.status, 'failed')
    assert.match(list.plugins[0]!.lastError, /ctx\.http\.intercept: \/_armature\/plugins belongs to the kernel/)
  } finally {
    await other.stop()
  }
})

test.run()
