// The armature command line: --version, exit code 2 for every usage error, `new plugin`.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ARMATURE_BIN } from '@armature/testing'

const CORE_MANIFEST = new URL('../package.json', import.meta.url)
// The drop-in folder comes from --dir or the cwd here, not from the caller's environment.
const { PLUGINS_DIR: _, ...env } = process.env
let root: string

test.before(() => {
  root = mkdtempSync(join(tmpdir(), 'armature-cli-'))
})

test.after(() => {
  rmSync(root, { recursive: true, force: true })
})

function armature(args: string[], cwd = root): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [ARMATURE_BIN, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

test('--version prints the package version and exits 0', async () => {
  const { version } = JSON.parse(readFileSync(CORE_MANIFEST, 'utf8'))
  for (const flag of ['--version', '-v']) {
    const result = await armature([flag])
    assert.equal(result, { code: 0, stdout: `${version}\n`, stderr: '' }, flag)
  }
})

test('usage errors exit 2 with one line naming the problem', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['frobnicate'], /^armature: unknown command 'frobnicate' .*see armature --help$/],
    [['--frobnicate'], /^armature: unknown option '--frobnicate'; see armature --help$/],
    [['start', '--bogus'], /^armature: Unknown option '--bogus'.*; see armature start --help$/],
    [['start', 'extra'], /^armature: Unexpected argument 'extra'.*; see armature start --help$/],
    [['dev', '--bogus'], /^armature: Unknown option '--bogus'.*; see armature dev --help$/],
    [['plugins', '--bogus'], /^armature: Unknown option '--bogus'.*; see armature plugins --help$/],
    [['plugins', '--url'], /^armature: Option '--url <value>' argument missing; see armature plugins --help$/],
    [['test', '--bogus'], /^armature: test takes path filters, not '--bogus'; see armature test --help$/],
    [['new'], /^armature: new needs what to create: armature new plugin <name>$/],
    [['new', 'service'], /^armature: new creates a plugin, not 'service'/],
    [['new', 'plugin'], /^armature: new plugin needs a name/],
    [['new', 'plugin', 'a', 'b'], /^armature: new plugin takes one name, got 'a b'$/],
    [['new', 'plugin', 'notes', '--bogus'], /^armature: Unknown option '--bogus'.*; see armature new --help$/],
  ]
  for (const [args, message] of cases) {
    const result = await armature(args)
    assert.is(result.code, 2, `${args.join(' ')}: ${result.stderr}`)
    assert.match(result.stderr.trim(), message, args.join(' '))
    assert.is(result.stderr.trim().split('\n').length, 1, args.join(' '))
  }
  const bare = await armature([])
  assert.is(bare.code, 2)
  assert.match(bare.stderr, /^Usage: armature <command>/)
  assert.is((await armature(['--help'])).code, 0)
  assert.is((await armature(['new', '--help'])).code, 0)
})

test('new plugin writes the template into a plain folder; a bad name or a taken folder exits 1', async () => {
  const result = await armature(['new', 'plugin', 'notes', '--dir', 'extensions'])
  assert.is(result.code, 0, result.stderr)
  assert.match(result.stdout, /- wrote plugin 'notes' into extensions\/notes \(6 files\)/)
  assert.match(readFileSync(join(root, 'extensions/notes/index.ts'), 'utf8'), /name: 'notes',[\s\S]*NOTES_GREETING/)
  assert.match(readFileSync(join(root, 'extensions/notes/package.json'), 'utf8'), /"name": "@armature\/plugin-notes"/)
  const taken = await armature(['new', 'plugin', 'notes', '--dir', 'extensions'])
  assert.is(taken.code, 1)
  assert.match(taken.stderr, /^armature: extensions\/notes exists and is not empty; .*--force to write into it\n$/)
  const bad = await armature(['new', 'plugin', 'Bad_Name'])
  assert.is(bad.code, 1)
  assert.match(bad.stderr, /invalid plugin name 'Bad_Name'; plugin names match \[a-z0-9-\]\+/)
  assert.not.ok(existsSync(join(root, 'plugins/Bad_Name')))
})

test("new plugin in an app lists the plugin's dependencies in the app and, with --no-install, says to run npm install", async () => {
  const app = join(root, 'app')
  mkdirSync(join(app, 'plugins'), { recursive: true })
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', workspaces: ['plugins/*'], dependencies: { '@armature/core': 'file:vendor/core.tgz' } }))
  writeFileSync(join(app, 'package-lock.json'), '{}')
  const result = await armature(['new', 'plugin', 'notes', '--no-install'], app)
  assert.is(result.code, 0, result.stderr)
  assert.match(result.stdout, /- added hono to package\.json\n/)
  assert.match(result.stdout, /- run npm install before npm ci: package-lock\.json does not list the new workspace yet\n/)
  const manifest = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8'))
  assert.equal(Object.keys(manifest.dependencies), ['@armature/core', 'hono'])
  assert.is(readFileSync(join(app, 'package-lock.json'), 'utf8'), '{}', "the lock file is npm install's to change")
})

test.run()
