// The whole repository type-checks under the strict tsconfig (tsx runs code without checking it).
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'

test('tsc --noEmit finds no type errors', () => {
  const root = join(import.meta.dirname, '../..')
  const result = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.json'), '--noEmit'], { encoding: 'utf8', cwd: root })
  assert.is(result.status, 0, result.stdout + result.stderr)
})

test.run()
