// The collections plugin through a real kernel: another plugin reaches it with ctx.use.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startTestKernel } from '@armature/testing'

test('a plugin that uses collections gets its classes and serves from a TreeMap', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'collections-user-'))
  mkdirSync(join(dir, 'ranking'))
  writeFileSync(
    join(dir, 'ranking/index.ts'),
    `import { definePlugin } from '@armature/core'
import { Hono } from 'hono'
export default definePlugin({
  name: 'ranking',
  uses: ['collections'],
  setup(ctx) {
    const { TreeMap } = ctx.use<any>('collections')
    const scores = new TreeMap()
    for (const [name, score] of [['ann', 30], ['bob', 10], ['cy', 20]]) scores.put(score, name)
    ctx.http.route(new Hono().get('/', (c) => c.json({ first: scores.firstKey(), floor25: scores.floorKey(25), names: [...scores.values()] })))
  },
})
`,
  )
  const k = await startTestKernel({ plugins: [join(import.meta.dirname, '..'), join(dir, 'ranking')] })
  try {
    assert.equal(await (await fetch(`${k.url}/ranking`)).json(), { first: 10, floor25: 20, names: ['bob', 'cy', 'ann'] })
    const list = (await (await fetch(`${k.url}/_armature/plugins`)).json()) as { plugins: any[] }
    assert.equal(list.plugins.find((p) => p.name === 'ranking').uses, ['collections'])
  } finally {
    await k.stop()
  }
})

test.run()
