// Hot loading from a watched drop-in folder: swaps under load, broken rewrites, add and delete.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { startTestKernel, waitFor, type TestKernel } from '@armature/testing'
import { pluginsFolder, textPlugin, writePlugin } from './support.ts'

const dir = pluginsFolder()
writePlugin(dir, 'greet', textPlugin('greet', 'v0'))
let k: TestKernel

test.before(async () => {
  k = await startTestKernel({ pluginsDir: dir, overrides: { watch: true } })
})
test.after(async () => {
  await k.stop()
})

const text = async (path: string) => {
  const res = await fetch(`${k.url}${path}`)
  return { status: res.status, body: await res.text() }
}

test('20 rewrites under a concurrent client loop: 0 failed requests, answers follow the code', async () => {
  let stop = false
  let total = 0
  const failures: string[] = []
  const seen = new Set<string>()
  const client = async () => {
    while (!stop || total < 2000) {
      try {
        const { status, body } = await text('/greet')
        total++
        if (status !== 200) failures.push(`${status} ${body}`)
        else seen.add(body.split(' gen ')[0]!)
      } catch (error) {
        total++
        failures.push(String(error))
      }
    }
  }
  const clients = Array.from({ length: 8 }, client)
  try {
    for (let i = 1; i <= 20; i++) {
      writePlugin(dir, 'greet', textPlugin('greet', `v${i}`))
      await waitFor(async () => (await text('/greet')).body.startsWith(`v${i} `), { what: `v${i} to serve` })
    }
  } finally {
    stop = true
    await Promise.all(clients)
  }
  assert.ok(total >= 2000, `only ${total} requests`)
  assert.equal(failures, [])
  assert.ok(seen.has('v20'))
  assert.ok(seen.size >= 10, `answers moved through ${seen.size} versions`)
  const list = (await (await fetch(`${k.url}/_armature/plugins`)).json()) as { plugins: any[] }
  assert.ok(list.plugins[0].generation >= 21)
})

test('a broken rewrite keeps the old generation serving and shows the error', async () => {
  const before = (await text('/greet')).body
  writeFileSync(join(dir, 'greet', 'index.ts'), "export default definePlugin({ name: 'greet', setup(ctx) { ctx.http.route( }")
  const plugin = await waitFor(
    async () => {
      const list = (await (await fetch(`${k.url}/_armature/plugins`)).json()) as { plugins: any[] }
      const greet = list.plugins.find((p) => p.name === 'greet')
      return greet.lastError ? greet : undefined
    },
    { what: 'the build error to show' },
  )
  assert.match(plugin.lastError, /plugin 'greet': build failed: .*index\.ts:1:\d+: /)
  assert.is(plugin.status, 'running')
  assert.is((await text('/greet')).body, before)
  // A setup that throws is kept out the same way.
  writePlugin(dir, 'greet', textPlugin('greet', 'never', "throw new Error('bad wiring')"))
  await waitFor(
    async () => {
      const list = (await (await fetch(`${k.url}/_armature/plugins`)).json()) as { plugins: any[] }
      return /setup failed: bad wiring/.test(list.plugins.find((p) => p.name === 'greet').lastError ?? '')
    },
    { what: 'the setup error to show' },
  )
  assert.is((await text('/greet')).body, before)
  writePlugin(dir, 'greet', textPlugin('greet', 'fixed'))
  await waitFor(async () => (await text('/greet')).body.startsWith('fixed '), { what: 'the fix to serve' })
  const list = (await (await fetch(`${k.url}/_armature/plugins`)).json()) as { plugins: any[] }
  assert.is(list.plugins.find((p) => p.name === 'greet').lastError, null)
})

test('a new folder loads; a deleted one unloads (404)', async () => {
  writePlugin(dir, 'extra', textPlugin('extra', 'added'))
  await waitFor(async () => (await text('/extra')).status === 200, { what: 'the new plugin to load' })
  assert.match((await text('/extra')).body, /^added gen 1/)
  rmSync(join(dir, 'extra'), { recursive: true })
  await waitFor(async () => (await text('/extra')).status === 404, { what: 'the plugin to unload' })
  const list = (await (await fetch(`${k.url}/_armature/plugins`)).json()) as { plugins: any[] }
  assert.not.ok(list.plugins.some((p) => p.name === 'extra'))
})

test('a single-file plugin loads; a badly named file is refused with a clear error', async () => {
  writeFileSync(join(dir, 'single.ts'), textPlugin('single', 'one file'))
  await waitFor(async () => (await text('/single')).status === 200, { what: 'the single-file plugin' })
  const logged: string[] = []
  const original = k.kernel.log.error.bind(k.kernel.log)
  ;(k.kernel.log as any).error = (msg: unknown, ...rest: unknown[]) => {
    logged.push(String(msg))
    return (original as any)(msg, ...rest)
  }
  writeFileSync(join(dir, 'Not_Valid.ts'), textPlugin('not-valid', 'x'))
  await waitFor(() => logged.some((l) => /invalid plugin name "Not_Valid"/.test(l)), { what: 'the refusal to be logged' })
  ;(k.kernel.log as any).error = original
})

test.run()
