// A wire test: boot a real kernel with this plugin on an ephemeral port and call it over HTTP.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { fileURLToPath } from 'node:url'
import { startTestKernel } from '@armature/testing'
import { HitCounter } from '../src/hit-counter.ts'

const PLUGIN_DIR = fileURLToPath(new URL('..', import.meta.url))

test('counts hits', () => {
  const counter = new HitCounter()
  counter.hit()
  assert.is(counter.hit(), 2)
  assert.is(counter.total, 2)
})

test('GET /{{name}} answers with the greeting and a growing hit count', async () => {
  const k = await startTestKernel({ plugins: [PLUGIN_DIR] })
  try {
    const first = await fetch(`${k.url}/{{name}}`)
    assert.is(first.status, 200)
    assert.equal(await first.json(), { message: 'hello from {{name}}', generation: 1, hits: 1 })
    const second = (await (await fetch(`${k.url}/{{name}}`)).json()) as { hits: number }
    assert.is(second.hits, 2)
  } finally {
    await k.stop()
  }
})

test.run()
