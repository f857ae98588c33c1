// The CLI refuses bad input with one line on stderr, and writes nothing: exit 2 for a usage
// error (an unknown flag, a missing argument), 1 for a value it cannot use.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createApp, tempRoot, type Finished } from './support/generated-app.ts'

const REPO_DIR = fileURLToPath(new URL('../../', import.meta.url))

let root: string

test.before(() => {
  root = tempRoot('bad')
})

test.after(() => {
  rmSync(root, { recursive: true, force: true })
})

function assertOneLineError(result: Finished, pattern: RegExp, code = 1) {
  assert.is(result.code, code, `exit code; stderr: ${result.stderr}`)
  const lines = result.stderr.trim().split('\n')
  assert.is(lines.length, 1, `one line on stderr, got:\n${result.stderr}`)
  assert.match(lines[0]!, /^create-armature: /)
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

test('without a terminal, missing choices are a usage error that lists the flags', async () => {
  const noPlugins = await createApp(['svc'], root)
  assertOneLineError(noPlugins, /missing --plugins or --all, and no terminal to ask on; usage: create-armature <dir> \(--plugins a,b,c \| --all\)/, 2)
  const nothing = await createApp([], root)
  assertOneLineError(nothing, /missing <dir> and --plugins or --all/, 2)
  assert.equal(
    readdirSync(root).filter((e) => e !== 'taken'),
    [],
  )
})

test('an unknown flag and a missing plugin name are usage errors; a bad plugin name is refused', async () => {
  assertOneLineError(await createApp(['svc', '--plugin', 'hello'], root), /Unknown option '--plugin'/, 2)
  assertOneLineError(await createApp(['svc', 'other'], root), /takes one target folder/, 2)
  assertOneLineError(await createApp(['plugin'], root), /needs a name/, 2)
  assertOneLineError(await createApp(['plugin', 'notes', '--bogus'], root), /Unknown option '--bogus'/, 2)
  assertOneLineError(await createApp(['plugin', 'Bad_Name'], root), /invalid plugin name 'Bad_Name'; plugin names match \[a-z0-9-\]\+/)
})

test('a folder inside the Armature checkout is refused, naming one beside it', async () => {
  const name = `inside-checkout-${process.pid}`
  try {
    const result = await createApp([name, '--plugins', 'hello', '--no-install'], REPO_DIR)
    assertOneLineError(result, new RegExp(`is inside the Armature checkout .*e\\.g\\. .*/${name}$`))
    assert.not.ok(existsSync(join(REPO_DIR, name)), 'nothing written')
  } finally {
    rmSync(join(REPO_DIR, name), { recursive: true, force: true })
  }
})

test('--version prints the package version and exits 0', async () => {
  const result = await createApp(['--version'], root)
  assert.is(result.code, 0, result.stderr)
  assert.is(result.stdout, `${JSON.parse(readFileSync(join(REPO_DIR, 'create-app/package.json'), 'utf8')).version}\n`)
  assert.is(result.stderr, '')
})

test.run()
