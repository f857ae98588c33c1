import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { startTestKernel } from '@armature/testing'
import { openDatabase, type OpenDatabase } from '../src/open.ts'
import { MigrationError, DatabaseUnavailableError } from '../src/errors.ts'
import { createTestDatabase, type TestDatabase } from './support.ts'

const PLUGIN_DIR = new URL('..', import.meta.url).pathname
const tmp = mkdtempSync(join(tmpdir(), 'armature-db-test-'))
// The kernel test below points DATA_DIR here, so its db plugin reuses this instance instead of booting another.
const EMBEDDED_DIR = join(tmp, 'data', 'db')
let pgDatabase: TestDatabase
const backends: Record<string, OpenDatabase> = {}

test.before(async () => {
  pgDatabase = await createTestDatabase('armature_db_test')
  backends.postgres = await openDatabase({ url: pgDatabase.url, dataDir: '', poolSize: 4, connectTimeoutMs: 5000 })
  backends.pglite = await openDatabase({ url: '', dataDir: EMBEDDED_DIR, poolSize: 1, connectTimeoutMs: 5000 })
})

test.after(async () => {
  await Promise.allSettled(Object.values(backends).map((b) => b.close()))
  await pgDatabase?.drop()
  rmSync(tmp, { recursive: true, force: true })
})

const notes = [
  { id: '001-notes', sql: 'CREATE TABLE notes (id serial PRIMARY KEY, body text NOT NULL); CREATE INDEX notes_body ON notes (body)' },
  { id: '002-notes-created', sql: 'ALTER TABLE notes ADD COLUMN created timestamptz NOT NULL DEFAULT now()' },
]

for (const kind of ['postgres', 'pglite'] as const) {
  test(`${kind}: reports its kind and runs parameterised queries`, async () => {
    const db = backends[kind]!.database
    assert.is(db.kind, kind)
    const { rows } = await db.query<{ sum: number }>('SELECT $1::int + $2::int AS sum', [40, 2])
    assert.equal(rows, [{ sum: 42 }])
  })

  test(`${kind}: migrations apply in order once, and are recorded per plugin`, async () => {
    const db = backends[kind]!.database
    assert.equal(await db.migrate('notes', notes.slice(0, 1)), ['001-notes'])
    assert.equal(await db.migrate('notes', notes), ['002-notes-created'])
    assert.equal(await db.migrate('notes', notes), [])
    // Another plugin may reuse an id: the ledger is keyed by plugin.
    assert.equal(await db.migrate('other', [{ id: '001-notes', sql: 'CREATE TABLE other_things (x int)' }]), ['001-notes'])
    const { rows } = await db.query<{ plugin: string; id: string }>('SELECT plugin, id FROM armature_migrations ORDER BY plugin, id')
    assert.equal(
      rows.map((r) => `${r.plugin}/${r.id}`),
      ['notes/001-notes', 'notes/002-notes-created', 'other/001-notes'],
    )
    const insert = await db.query('INSERT INTO notes (body) VALUES ($1), ($2)', ['a', 'b'])
    assert.is(insert.rowCount, 2)
  })

  test(`${kind}: a failing migration rolls back all of its batch`, async () => {
    const db = backends[kind]!.database
    const batch = [
      { id: '001-first', sql: 'CREATE TABLE half_done (x int)' },
      { id: '002-broken', sql: 'CREATE TABLE broken (x no_such_type)' },
    ]
    try {
      await db.migrate('broken', batch)
      assert.unreachable('should have thrown')
    } catch (error) {
      assert.instance(error, MigrationError)
      assert.match((error as Error).message, /broken\/002-broken/)
    }
    const { rows } = await db.query<{ name: string | null }>(`SELECT to_regclass('half_done')::text AS name`)
    assert.is(rows[0]!.name, null)
    const ledger = await db.query(`SELECT 1 FROM armature_migrations WHERE plugin = 'broken'`)
    assert.is(ledger.rows.length, 0)
  })

  test(`${kind}: refuses duplicate migration ids before touching the database`, async () => {
    const db = backends[kind]!.database
    try {
      await db.migrate('dup', [
        { id: 'a', sql: 'SELECT 1' },
        { id: 'a', sql: 'SELECT 2' },
      ])
      assert.unreachable('should have thrown')
    } catch (error) {
      assert.instance(error, MigrationError)
      assert.match((error as Error).message, /appears twice/)
    }
  })

  test(`${kind}: a transaction commits, and a throw inside rolls it back`, async () => {
    const db = backends[kind]!.database
    await db.query('CREATE TABLE IF NOT EXISTS tx_probe (x int)')
    await db.transaction(async (tx) => {
      await tx.query('INSERT INTO tx_probe VALUES (1)')
    })
    try {
      await db.transaction(async (tx) => {
        await tx.query('INSERT INTO tx_probe VALUES (2)')
        throw new Error('changed my mind')
      })
      assert.unreachable('should have thrown')
    } catch (error) {
      assert.is((error as Error).message, 'changed my mind')
    }
    const { rows } = await db.query<{ x: number }>('SELECT x FROM tx_probe ORDER BY x')
    assert.equal(rows, [{ x: 1 }])
  })

  test(`${kind}: concurrent migrate calls apply each migration once`, async () => {
    const db = backends[kind]!.database
    const list = [{ id: '001', sql: 'CREATE TABLE race_table (x int)' }]
    const results = await Promise.all([db.migrate('race', list), db.migrate('race', list), db.migrate('race', list)])
    assert.equal(results.flat(), ['001'])
  })
}

test('postgres: an unreachable server fails with a named error and no password', async () => {
  try {
    await openDatabase({ url: 'postgres://postgres:secret@127.0.0.1:1/nothing', dataDir: '', poolSize: 1, connectTimeoutMs: 1000 })
    assert.unreachable('should have thrown')
  } catch (error) {
    assert.instance(error, DatabaseUnavailableError)
    assert.not.match((error as Error).message, /secret/)
  }
})

test('kernel: the plugin boots on PostgreSQL when DATABASE_URL is set, and on PGlite in its data folder otherwise', async () => {
  const onPostgres = await startTestKernel({ plugins: [PLUGIN_DIR], env: { DATABASE_URL: pgDatabase.url } })
  try {
    const plugins = (await (await fetch(`${onPostgres.url}/_armature/plugins`)).json()) as unknown
    assert.match(JSON.stringify(plugins), /"db"/)
    assert.not.ok(existsSync(join(onPostgres.dir, 'data', 'db', 'PG_VERSION')))
  } finally {
    await onPostgres.stop()
  }
  const dataDir = join(tmp, 'kernel-data')
  const embedded = await startTestKernel({ plugins: [PLUGIN_DIR], env: { DATABASE_URL: '', DATA_DIR: dataDir } })
  const opens = () =>
    readFileSync(embedded.logFile, 'utf8')
      .split('\n')
      .filter((line) => /"kind":"pglite".*"msg":"database ready"/.test(line)).length
  try {
    assert.ok(existsSync(join(dataDir, 'db', 'PG_VERSION')))
    assert.is(opens(), 1)
    // A reload keeps the open instance (ctx.keep): PGlite is never opened twice on one folder.
    assert.is((await embedded.kernel.reload('db', { force: true })).status, 'swapped')
    assert.is(opens(), 1)
    assert.is(embedded.kernel.slots.get('db')?.current?.id, 2)
  } finally {
    await embedded.stop()
  }
  // Closed at stop with the last generation: the folder opens again at once.
  const again = await openDatabase({ url: '', dataDir: join(dataDir, 'db'), poolSize: 1, connectTimeoutMs: 5000 })
  try {
    const { rows } = await again.database.query<{ n: number }>('SELECT 1 AS n')
    assert.is(rows[0]!.n, 1)
  } finally {
    await again.close()
  }
})

test.run()
