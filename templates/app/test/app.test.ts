// The service as a whole: every plugin in plugins/ loads, and the kernel answers /healthz.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startTestKernel } from '@armature/testing'

const APP_DIR = fileURLToPath(new URL('..', import.meta.url))
const PLUGINS_DIR = join(APP_DIR, 'plugins')

// A plugin is a folder with an index file; anything else in plugins/ is not loaded.
const expected = readdirSync(PLUGINS_DIR, { withFileTypes: true })
  .filter((e) => e.isDirectory() && ['index.ts', 'index.mts', 'index.js', 'index.mjs'].some((f) => existsSync(join(PLUGINS_DIR, e.name, f))))
  .map((e) => e.name)
  .sort()

test('every plugin in plugins/ is running and /healthz answers 200', async () => {
  const k = await startTestKernel({ pluginsDir: PLUGINS_DIR, cwd: APP_DIR })
  try {
    assert.is((await fetch(`${k.url}/healthz`)).status, 200)
    const body = (await (await fetch(`${k.url}/_armature/plugins`)).json()) as { plugins: Array<{ name: string; status: string; lastError: string | null }> }
    const running = body.plugins
      .filter((p) => p.status === 'running')
      .map((p) => p.name)
      .sort()
    const failed = body.plugins.filter((p) => p.status !== 'running').map((p) => `${p.name}: ${p.lastError}`)
    assert.equal(running, expected, `not running: ${failed.join('; ')}`)
  } finally {
    await k.stop()
  }
})

test.run()
