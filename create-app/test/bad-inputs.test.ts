// The CLI refuses bad input with exit 1 and one line on stderr, and writes nothing.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createApp, tempRoot, type Finished } from './support/generated-app.ts'

let root: string

test.before(() => {
  root = tempRoot('bad')
})

test.after(() => {
  rmSync(root, { recursive: true, force: true })
})

function assertOneLineError(result: Finished, pattern: RegExp) {
  assert.is(result.code, 1, `exit code; stderr: ${result.stderr}`)
  const lines = result.stderr.trim().split('\n')
  assert.is(lines.length, 1, `one line on stderr, got:\n${result.stderr}`)
  assert.match(lines[0]!, /^create-app: /)
  assert.match(lines[0]!, pattern)
  assert.not.match(result.stderr, /\n\s+at /, 'no stack trace')
}

test('an unknown plugin is refused, listing the available ones', async () => {
  const result = await createApp(['svc', '--plugins', 'hello,nope', '--no-install'], root)
  assertOneLineError(result, /unknown plugin 'nope'; available: .*hello/)
  assert.not.ok(existsSync(join(root, 'svc')), 'nothing written')
})

test('a non-empty target folder is refused without --force', async () => {
  const dir = join(root, 'taken')
  mkdirSync(dir)
  writeFileSync(join(dir, 'notes.txt'), 'mine')
  const result = await createApp(['taken', '--plugins', 'hello', '--no-install'], root)
  assertOneLineError(result, /taken exists and is not empty; .*--force/)
  assert.equal(readdirSync(dir), ['notes.txt'])
})

test('an invalid app name is refused with the npm rule it breaks', async () => {
  const result = await createApp(['My App', '--plugins', 'hello', '--no-install'], root)
  assertOneLineError(result, /invalid app name 'My App': .*capital letters/)
  assert.not.ok(existsSync(join(root, 'My App')))
})

test('without a terminal, missing choices are an error that lists the flags', async () => {
  const noPlugins = await createApp(['svc'], root)
  assertOneLineError(noPlugins, /missing --plugins or --all, and no terminal to ask on; usage: create-app <dir> \(--plugins a,b,c \| --all\)/)
  const nothing = await createApp([], root)
  assertOneLineError(nothing, /missing <dir> and --plugins or --all/)
  assert.equal(readdirSync(root).filter((e) => e !== 'taken'), [])
})

test('an unknown flag and a bad plugin name are refused', async () => {
  assertOneLineError(await createApp(['svc', '--plugin', 'hello'], root), /Unknown option '--plugin'/)
  assertOneLineError(await createApp(['plugin', 'Bad_Name'], root), /invalid plugin name 'Bad_Name'; plugin names match \[a-z0-9-\]\+/)
  assertOneLineError(await createApp(['plugin'], root), /needs a name/)
})

test.run()
