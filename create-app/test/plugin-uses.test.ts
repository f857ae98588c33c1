// A chosen plugin brings the plugins it uses, with their npm dependencies: the shortener
// alone needs db, collections and proxy (and proxy needs db), or it cannot start.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { readdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { createApp, REPO_PLUGINS_DIR, tempRoot } from './support/generated-app.ts'

let root: string

test.before(() => {
  root = tempRoot('uses')
})

test.after(() => {
  rmSync(root, { recursive: true, force: true })
})

const dependenciesOf = (plugin: string): Record<string, string> => JSON.parse(readFileSync(join(REPO_PLUGINS_DIR, plugin, 'package.json'), 'utf8')).dependencies ?? {}

test('--plugins shortener adds db, collections and proxy, says so, and lists their dependencies', async () => {
  const result = await createApp(['links', '--plugins', 'shortener', '--no-install'], root)
  assert.is(result.code, 0, result.stdout + result.stderr)
  assert.match(result.stdout, /^- adding db, which shortener and proxy use$/m)
  assert.match(result.stdout, /^- adding collections, which shortener uses$/m)
  assert.match(result.stdout, /^- adding proxy, which shortener uses$/m)
  assert.match(result.stdout, /Created links with collections, db, proxy, shortener\./)
  const app = join(root, 'links')
  assert.equal(readdirSync(join(app, 'plugins')).sort(), ['collections', 'db', 'proxy', 'shortener'])
  const manifest = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8'))
  for (const plugin of ['db', 'proxy', 'shortener']) {
    for (const dep of Object.keys(dependenciesOf(plugin))) assert.ok(manifest.dependencies[dep], `${plugin} needs ${dep}`)
  }
  assert.ok(manifest.dependencies.pg, 'the db plugin brings pg')
})

test('--plugins proxy adds db', async () => {
  const result = await createApp(['gateway', '--plugins', 'proxy', '--no-install'], root)
  assert.is(result.code, 0, result.stdout + result.stderr)
  assert.match(result.stdout, /^- adding db, which proxy uses$/m)
  assert.equal(readdirSync(join(root, 'gateway', 'plugins')).sort(), ['db', 'proxy'])
  assert.ok(JSON.parse(readFileSync(join(root, 'gateway', 'package.json'), 'utf8')).dependencies['@electric-sql/pglite'])
})

test.run()
