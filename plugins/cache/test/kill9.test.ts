import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { killLoop } from './support/kill-loop.ts'
import { tempDir } from './support/tmp.ts'

test('kill -9 loop, 20 rounds, fsync always: every acknowledged write survives', async () => {
  const result = await killLoop({ dataDir: tempDir('kill9'), policy: 'always', rounds: 20 })
  assert.is(result.rounds, 20)
  assert.equal(result.lost, [], `lost ${result.lost.length} acknowledged writes`)
  assert.ok(result.acknowledged >= 20 * 50, `only ${result.acknowledged} writes acknowledged`)
})

test.run()
