// A service with the hello plugin, moved to another folder before its first install (the
// vendored core path is relative), plus a plugin from the app's own `npx armature new plugin`:
// install, lock file, typecheck, test, start, SIGTERM.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { childEnv, createApp, npm, run, startAndStop, summary, tempRoot } from './support/generated-app.ts'

let root: string
let app: string

test.before(() => {
  root = tempRoot('hello')
})

test.after(() => {
  rmSync(root, { recursive: true, force: true })
})

test('writes the template, the hello plugin and a vendored core', async () => {
  const result = await createApp(['svc', '--plugins', 'hello', '--no-install'], root)
  assert.is(result.code, 0, result.stderr)
  assert.match(result.stdout, /- packing @armature\/core and @armature\/testing into vendor\//)
  assert.match(result.stdout, /Next:\n\n {2}cd svc\n {2}npm install\n {2}npm start/)
  const generated = join(root, 'svc')
  const manifest = JSON.parse(readFileSync(join(generated, 'package.json'), 'utf8'))
  assert.is(manifest.name, 'svc')
  assert.equal(manifest.workspaces, ['plugins/*'])
  assert.match(manifest.dependencies['@armature/core'], /^file:vendor\/armature-core-[\d.]+\.tgz$/)
  assert.match(manifest.devDependencies['@armature/testing'], /^file:vendor\/armature-testing-[\d.]+\.tgz$/)
  assert.ok(existsSync(join(generated, manifest.dependencies['@armature/core'].slice('file:'.length))))
  assert.is(manifest.dependencies.hono, JSON.parse(readFileSync(join(generated, 'plugins/hello/package.json'), 'utf8')).dependencies.hono)
  assert.ok(existsSync(join(generated, '.gitignore')))
  assert.not.ok(existsSync(join(generated, '_gitignore')))
  assert.ok(existsSync(join(generated, 'plugins/hello/index.ts')))
  const readme = readFileSync(join(generated, 'README.md'), 'utf8').split('\n')
  assert.is(readme[0], '# svc')
  assert.match(readme[3]!, /^npm install && npm start/)
  assert.match(readme[4]!, /^npm test/)

  mkdirSync(join(root, 'elsewhere'))
  app = join(root, 'elsewhere', 'svc')
  renameSync(generated, app)
})

test('npm install works in the moved folder', async () => {
  const install = await npm(['install', '--no-audit', '--no-fund', '--prefer-offline'], app)
  assert.is(install.code, 0, install.stderr)
  assert.ok(existsSync(join(app, 'node_modules/@armature/core/package.json')))
  assert.ok(existsSync(join(app, 'node_modules/@armature/plugin-hello')), 'plugins are linked as workspaces')
})

test("npx armature new plugin adds a blank plugin through the app's own core and updates the lock file", async () => {
  const result = await run('npx', ['armature', 'new', 'plugin', 'notes'], { cwd: app, env: childEnv() })
  assert.is(result.code, 0, result.stdout + result.stderr)
  assert.match(result.stdout, /- wrote plugin 'notes' into plugins\/notes \(6 files\)/)
  assert.match(result.stdout, /- adding the new workspace to package-lock\.json: npm install/)
  for (const file of ['index.ts', 'src/hit-counter.ts', 'test/plugin.test.ts', 'README.md', 'package.json']) {
    assert.ok(existsSync(join(app, 'plugins/notes', file)), file)
  }
  assert.match(readFileSync(join(app, 'plugins/notes/index.ts'), 'utf8'), /name: 'notes'/)
  const lock = JSON.parse(readFileSync(join(app, 'package-lock.json'), 'utf8'))
  assert.is(lock.packages['plugins/notes']?.name, '@armature/plugin-notes')
  // npm ci checks package.json against the lock file before it installs anything.
  const ci = await npm(['ci', '--dry-run', '--no-audit', '--no-fund'], app)
  assert.is(ci.code, 0, ci.stderr)
  const again = await run('npx', ['armature', 'new', 'plugin', 'notes'], { cwd: app, env: childEnv() })
  assert.is(again.code, 1)
  assert.match(again.stderr, /notes exists and is not empty/)
})

test('npm run typecheck passes outside the repository', async () => {
  const result = await npm(['run', 'typecheck'], app)
  assert.is(result.code, 0, result.stdout + result.stderr)
})

test('npm test runs the app test and the new plugin test, and ends with the summary', async () => {
  const result = await npm(['test'], app)
  assert.is(result.code, 0, result.stdout + result.stderr)
  assert.match(result.stdout, /ok {3}test\/app\.test\.ts/)
  assert.match(result.stdout, /ok {3}plugins\/notes\/test\/plugin\.test\.ts \(2 passed/)
  const counts = summary(result.stdout)
  assert.ok(counts, `last line is the summary:\n${result.stdout}`)
  assert.is(counts[2], '0')
  assert.ok(Number(counts[1]) >= 3)
})

test('npm start serves /healthz and SIGTERM exits 0', async () => {
  const { healthz, exit, output } = await startAndStop(app)
  assert.is(healthz, 200, output)
  assert.equal(exit, { code: 0, signal: null }, output)
  assert.match(output, /shutdown complete/)
})

test.run()
