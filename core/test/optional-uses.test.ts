// Optional dependencies (`uses: ['name?']`): started first when loaded, undefined when not,
// and the plugin that uses one is renewed when it comes (back) up.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { startTestKernel, type TestKernel } from '@armature/testing'
import { orderByUses } from '../src/dependencies.ts'
import { pluginsFolder, writePlugin } from './support.ts'

const dir = pluginsFolder()
const STORE = writePlugin(
  dir,
  'store',
  `import { definePlugin } from '@armature/core'
export default definePlugin({ name: 'store', setup(ctx) { ctx.provide({ where: 'store generation ' + ctx.generation }) } })
`,
)
const APP = writePlugin(
  dir,
  'app',
  `import { definePlugin } from '@armature/core'
import { Hono } from 'hono'
export default definePlugin({
  name: 'app',
  uses: ['store?'],
  setup(ctx) {
    const store = ctx.use('store')
    ctx.http.route(new Hono().get('/', (c) => c.text(store ? store.where : 'no store')))
  },
})
`,
)

const kernels: TestKernel[] = []
test.after.each(async () => {
  await Promise.all(kernels.splice(0).map((k) => k.stop()))
})

test('order: an optional dependency starts first when loaded and is ignored when not', () => {
  assert.equal(
    orderByUses(
      new Map([
        ['app', ['store?']],
        ['store', []],
      ]),
    ),
    { order: ['store', 'app'], errors: new Map() },
  )
  assert.equal(orderByUses(new Map([['app', ['store?']]])), { order: ['app'], errors: new Map() })
  const broken = orderByUses(new Map([['app', ['store?', 'db']]]))
  assert.equal([...broken.errors], [['app', "uses 'db', which is not loaded"]])
})

test('without the optional plugin, ctx.use answers undefined and the plugin runs', async () => {
  const k = await startTestKernel({ plugins: [APP] })
  kernels.push(k)
  assert.is(await (await fetch(`${k.url}/app`)).text(), 'no store')
})

test('with it, it is used; reloading it renews the plugin that uses it', async () => {
  const k = await startTestKernel({ plugins: [APP, STORE] })
  kernels.push(k)
  assert.is(await (await fetch(`${k.url}/app`)).text(), 'store generation 1')
  const result = await k.kernel.reload('store', { force: true })
  assert.is(result.status, 'swapped')
  assert.is(await (await fetch(`${k.url}/app`)).text(), 'store generation 2')
})

test.run()
