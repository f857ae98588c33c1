// A service with every folder in the repository's plugins/, so the test grows with the
// catalogue. The generator runs npm install itself; then the app's tests, typecheck, start and SIGTERM.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { createApp, npm, REPO_PLUGINS_DIR, startAndStop, summary, tempRoot } from './support/generated-app.ts'

let root: string
let app: string
const shipped = readdirSync(REPO_PLUGINS_DIR)
  .filter((e) => !e.startsWith('.') && statSync(join(REPO_PLUGINS_DIR, e)).isDirectory())
  .sort()

test.before(() => {
  root = tempRoot('all')
  app = join(root, 'everything')
})

test.after(() => {
  rmSync(root, { recursive: true, force: true })
})

test('--all copies every shipped plugin, merges their dependencies and installs', async () => {
  const result = await createApp(['everything', '--all'], root)
  assert.is(result.code, 0, result.stdout + result.stderr)
  assert.match(result.stdout, /- installing dependencies \(npm install --no-audit --no-fund\)/)
  assert.match(result.stdout, /Next:\n\n {2}cd everything\n {2}npm start/)
  assert.equal(readdirSync(join(app, 'plugins')).sort(), shipped)
  const manifest = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8'))
  for (const name of shipped) {
    const plugin = JSON.parse(readFileSync(join(REPO_PLUGINS_DIR, name, 'package.json'), 'utf8'))
    for (const dep of Object.keys(plugin.dependencies ?? {})) assert.ok(manifest.dependencies[dep], `${name} needs ${dep}`)
    for (const dep of Object.keys(plugin.devDependencies ?? {})) assert.ok(manifest.dependencies[dep] ?? manifest.devDependencies[dep], `${name} tests need ${dep}`)
  }
  assert.ok(existsSync(join(app, 'node_modules/@armature/core/package.json')))
})

// Every plugin's whole suite runs in the repository; here one file of each shows that a plugin's
// tests run in an app too (fixtures found, imports resolved), within the suite's time budget.
const sampleOf = (name: string): string | undefined => {
  const dir = join(REPO_PLUGINS_DIR, name, 'test')
  if (!existsSync(dir)) return undefined
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.test.ts'))
    .sort()
  return files.find((f) => /^(domain|plugin|routes|protocols|unavailable)\.test\.ts$/.test(f)) ?? files[0]
}

test('npm test runs the app test and a test file of every plugin', async () => {
  const samples = shipped.flatMap((name) => {
    const file = sampleOf(name)
    return file ? [`plugins/${name}/test/${file}`] : []
  })
  // A plugin test that hangs must fail alone, well inside this file's own time limit.
  const result = await npm(['test', '--', 'test/app.test.ts', ...samples], app, { TEST_FILE_TIMEOUT_MS: '120000' })
  const counts = summary(result.stdout)
  assert.ok(counts, `last line is the summary:\n${result.stdout}\n${result.stderr}`)
  assert.match(result.stdout, /ok {3}test\/app\.test\.ts/, 'every plugin loads in the app')
  assert.is(result.code, 0, result.stdout)
  for (const file of samples) assert.match(result.stdout, new RegExp(`^ok   ${file.replaceAll('.', '\\.')} `, 'm'), `${file} passed`)
})

test('npm run typecheck passes with every plugin, outside the repository', async () => {
  const result = await npm(['run', 'typecheck'], app)
  assert.is(result.code, 0, result.stdout + result.stderr)
})

test('plugin tests reach the kernel only through @armature/core, so they run in any app', () => {
  assert.equal([...testsTiedToTheRepository()], [])
})

/**
 * Plugin test files that import the repository's core sources or run its bin by a relative
 * path (directly or through a local helper). Those paths do not exist in a generated app,
 * where the kernel is a package.
 */
function testsTiedToTheRepository(): Set<string> {
  const tied = new Set<string>()
  const REPO_PATH = /(\.\.\/)+core\/(src|bin)\/|'core\/(src|bin)\//
  const reaches = (file: string, seen: Set<string>): boolean => {
    if (seen.has(file) || !existsSync(file)) return false
    seen.add(file)
    const text = readFileSync(file, 'utf8')
    if (REPO_PATH.test(text)) return true
    return [...text.matchAll(/from '(\.{1,2}\/[^']+\.ts)'/g)].some((m) => reaches(join(dirname(file), m[1]!), seen))
  }
  for (const name of shipped) {
    const dir = join(REPO_PLUGINS_DIR, name, 'test')
    if (!existsSync(dir)) continue
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.test.ts'))) {
      if (reaches(join(dir, file), new Set())) tied.add(`plugins/${name}/test/${file}`)
    }
  }
  return tied
}

test('npm start serves /healthz and SIGTERM exits 0', async () => {
  const { healthz, exit, output } = await startAndStop(app)
  assert.is(healthz, 200, output)
  assert.equal(exit, { code: 0, signal: null }, output)
})

test.run()
