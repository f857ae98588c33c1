// Command-line parsing, name rules, plugin selection and the plugins they use, dependency merging and copying: plain calls.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { parseCommand } from '../src/args.ts'
import { readCatalogue, readUses, selectPlugins, withUsedPlugins } from '../src/catalogue.ts'
import { mergeDependencies, type DependencyConflict } from '../src/dependencies.ts'
import { appNameFor } from '../src/names.ts'
import { settleChoices } from '../src/choices.ts'
import { InvalidAppNameError, MissingChoiceError, MissingUsedPluginError, TargetInsideCheckoutError, UnknownPluginError, UsageError } from '../src/errors.ts'
import { copyTree } from '../../core/src/cli/copy-tree.ts'
import { refuseInsideCheckout } from '../src/target.ts'
import type { AppCommand } from '../src/args.ts'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, dirname, join } from 'node:path'

test('parses a new-service command with every flag', () => {
  assert.equal(parseCommand(['svc', '--plugins', 'hello, cron,hello', '--no-install', '--force', '--yes']), {
    kind: 'app',
    dir: 'svc',
    plugins: ['hello', 'cron'],
    all: false,
    install: false,
    force: true,
    yes: true,
  })
  const all = parseCommand(['svc', '--all']) as AppCommand
  assert.is(all.all, true)
  assert.is(all.install, true)
  assert.is(all.plugins, undefined)
})

test('create-armature plugin hands its arguments to armature new plugin; --version and --help are their own commands', () => {
  assert.equal(parseCommand(['plugin', 'notes', '--dir', 'src/plugins', '--force']), { kind: 'plugin', args: ['notes', '--dir', 'src/plugins', '--force'] })
  assert.equal(parseCommand(['--version']), { kind: 'version' })
  assert.equal(parseCommand(['-v']), { kind: 'version' })
  assert.equal(parseCommand(['svc', '--help']), { kind: 'help' })
})

test('rejects contradictory or unknown flags with a UsageError', () => {
  assert.throws(
    () => parseCommand(['svc', '--all', '--plugins', 'hello']),
    (e: unknown) => e instanceof UsageError && /either --plugins or --all/.test(e.message),
  )
  assert.throws(
    () => parseCommand(['svc', '--plugins', ',']),
    (e: unknown) => e instanceof UsageError,
  )
  assert.throws(
    () => parseCommand(['svc', '--bogus']),
    (e: unknown) => e instanceof UsageError && /--bogus/.test(e.message),
  )
  assert.throws(
    () => parseCommand(['a', 'b']),
    (e: unknown) => e instanceof UsageError,
  )
  assert.throws(
    () => parseCommand(['svc', '--dir', 'x']),
    (e: unknown) => e instanceof UsageError,
  )
})

test('app names follow npm package name rules', () => {
  assert.is(appNameFor('/tmp/x/my-service'), 'my-service')
  for (const bad of ['My-Service', 'has space', '.hidden', 'node_modules']) {
    assert.throws(
      () => appNameFor(`/tmp/${bad}`),
      (e: unknown) => e instanceof InvalidAppNameError && e.message.includes(`'${bad}'`),
    )
  }
})

test('the catalogue lists every plugin folder with a package.json, with its description', () => {
  const catalogue = readCatalogue()
  const hello = catalogue.find((p) => p.name === 'hello')
  assert.ok(hello, 'hello is shipped')
  assert.is(hello.packageName, '@armature/plugin-hello')
  assert.ok(hello.description.length > 0)
  assert.throws(
    () => selectPlugins(catalogue, ['hello', 'nope']),
    (e: unknown) => e instanceof UnknownPluginError && e.message.includes("'nope'") && e.message.includes('hello'),
  )
  assert.equal(
    selectPlugins(catalogue, ['hello']).map((p) => p.name),
    ['hello'],
  )
})

test('a chosen plugin brings the plugins it uses, and theirs, each named with who uses it', () => {
  const catalogue = readCatalogue()
  const pick = (names: string[]) => withUsedPlugins(catalogue, selectPlugins(catalogue, names))
  const shortener = pick(['shortener'])
  assert.equal(
    shortener.plugins.map((p) => p.name),
    ['collections', 'db', 'proxy', 'shortener'],
  )
  assert.equal(Object.fromEntries(shortener.added), { db: ['shortener', 'proxy'], collections: ['shortener'], proxy: ['shortener'] })
  const proxy = pick(['proxy'])
  assert.equal(
    proxy.plugins.map((p) => p.name),
    ['db', 'proxy'],
  )
  assert.equal(Object.fromEntries(proxy.added), { db: ['proxy'] })
  const chosenAlready = pick(['db', 'proxy'])
  assert.equal(
    chosenAlready.plugins.map((p) => p.name),
    ['db', 'proxy'],
  )
  assert.is(chosenAlready.added.size, 0)
  assert.equal(
    pick(['hello']).plugins.map((p) => p.name),
    ['hello'],
  )
  const orphan = { ...catalogue.find((p) => p.name === 'hello')!, name: 'orphan', uses: ['nowhere'] }
  assert.throws(
    () => withUsedPlugins(catalogue, [orphan]),
    (e: unknown) => e instanceof MissingUsedPluginError && /'orphan' uses 'nowhere'/.test(e.message),
  )
})

test('uses is read from the definition, not from a comment that mentions one; optional uses are left out', () => {
  const root = mkdtempSync(join(tmpdir(), 'create-app-uses-'))
  try {
    const file = join(root, 'index.ts')
    writeFileSync(file, "// other plugins declare `uses: ['mine']`\nexport default definePlugin({\n  name: 'mine',\n  uses: [\n    'db', \"cron\", 'tracing?',\n  ],\n})\n")
    assert.equal(readUses(file), ['db', 'cron'])
    assert.equal(readUses(join(root, 'missing.ts')), [])
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
})

test('a target inside the Armature checkout is refused with a folder beside it', () => {
  const checkout = mkdtempSync(join(tmpdir(), 'create-app-checkout-'))
  try {
    for (const inside of [checkout, join(checkout, 'svc'), join(checkout, 'plugins', 'new', 'svc')]) {
      assert.throws(
        () => refuseInsideCheckout(inside, checkout),
        (e: unknown) => e instanceof TargetInsideCheckoutError && e.message.includes(join(dirname(checkout), basename(inside))),
        inside,
      )
    }
    refuseInsideCheckout(join(dirname(checkout), 'svc'), checkout)
    refuseInsideCheckout(`${checkout}-sibling/svc`, checkout)
  } finally {
    rmSync(checkout, { recursive: true, force: true })
  }
})

test('merging dependencies keeps the higher lower bound and reports the conflict', () => {
  const conflicts: DependencyConflict[] = []
  const merged = mergeDependencies({ hono: '^4.1.0', a: '1.0.0' }, { hono: '^4.13.19', b: '^2.0.0', a: '1.0.0' }, conflicts)
  assert.equal(merged, { a: '1.0.0', b: '^2.0.0', hono: '^4.13.19' })
  assert.equal(conflicts, [{ name: 'hono', kept: '^4.13.19', dropped: '^4.1.0' }])
  assert.equal(Object.keys(merged), ['a', 'b', 'hono'])
})

test('without a terminal, missing choices are an error naming the flags; --yes takes defaults', async () => {
  const base: AppCommand = { kind: 'app', dir: undefined, plugins: undefined, all: false, install: true, force: false, yes: false }
  const catalogue = readCatalogue()
  try {
    await settleChoices({ ...base, dir: 'svc' }, catalogue, false)
    assert.unreachable('should throw')
  } catch (error) {
    assert.instance(error, MissingChoiceError)
    assert.match((error as Error).message, /--plugins a,b,c \| --all/)
  }
  assert.equal(await settleChoices({ ...base, dir: 'svc', yes: true }, catalogue, false), { dir: 'svc', pluginNames: ['hello'] })
  assert.equal(
    (await settleChoices({ ...base, dir: 'svc', all: true }, catalogue, false)).pluginNames,
    catalogue.map((p) => p.name),
  )
})

test('copying skips install and build output, renames _gitignore and fills placeholders', () => {
  const root = mkdtempSync(join(tmpdir(), 'create-app-copy-'))
  try {
    const from = join(root, 'from')
    mkdirSync(join(from, 'node_modules/x'), { recursive: true })
    mkdirSync(join(from, '.armature/build'), { recursive: true })
    mkdirSync(join(from, 'src'))
    writeFileSync(join(from, 'node_modules/x/index.js'), '')
    writeFileSync(join(from, '.armature/build/a.mjs'), '')
    writeFileSync(join(from, '_gitignore'), 'node_modules/\n')
    writeFileSync(join(from, 'src/a.ts'), "export const name = '{{name}}' // {{unknown}}\n")
    const files = copyTree(from, join(root, 'to'), { rename: { _gitignore: '.gitignore' }, placeholders: { name: 'svc' } })
    assert.is(files, 2)
    assert.ok(existsSync(join(root, 'to/.gitignore')))
    assert.not.ok(existsSync(join(root, 'to/node_modules')))
    assert.not.ok(existsSync(join(root, 'to/.armature')))
    assert.is(readFileSync(join(root, 'to/src/a.ts'), 'utf8'), "export const name = 'svc' // {{unknown}}\n")
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
})

test.run()
