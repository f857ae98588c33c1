import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { startTestKernel } from '@armature/testing'
import { DatabaseUnavailableError } from '../src/errors.ts'
import { openDatabase, type OpenDatabase } from '../src/open.ts'
import { PGLITE_DEFAULTS, PG_MEMORY_SIZE, type PgliteSettings } from '../src/pglite-settings.ts'
import { rejection } from './support.ts'

const PLUGIN_DIR = new URL('..', import.meta.url).pathname
const tmp = mkdtempSync(join(tmpdir(), 'armature-db-embedded-'))
const CLUSTER = join(tmp, 'cluster')

const open = (dataDir: string, pglite?: PgliteSettings) => openDatabase({ url: '', dataDir, poolSize: 1, connectTimeoutMs: 5000, ...(pglite ? { pglite } : {}) })

async function settings(db: OpenDatabase): Promise<Record<string, string>> {
  const { rows } = await db.database.query<{ name: string; setting: string }>(
    `SELECT name, current_setting(name) AS setting FROM pg_settings WHERE name IN ('shared_buffers', 'work_mem', 'maintenance_work_mem')`,
  )
  return Object.fromEntries(rows.map((r) => [r.name, r.setting]))
}

test.after(() => rmSync(tmp, { recursive: true, force: true }))

test('a first open runs initdb in a child process that has exited, then opens the finished folder itself; data survives a reopen', async () => {
  const first = await open(CLUSTER)
  try {
    const created = first.createdCluster
    assert.ok(created, 'the open reports that it created the cluster')
    assert.is.not(created.pid, process.pid)
    assert.throws(() => process.kill(created.pid, 0), /ESRCH/, 'the initdb process is gone')
    assert.ok(existsSync(join(CLUSTER, 'PG_VERSION')))
    assert.equal(
      readdirSync(CLUSTER).filter((entry) => entry.startsWith('.initdb')),
      [],
      'no staging folder is left',
    )
    assert.equal(await settings(first), { shared_buffers: '16MB', work_mem: '4MB', maintenance_work_mem: '16MB' })
    await first.database.exec(`CREATE TABLE kept (body text NOT NULL); INSERT INTO kept VALUES ('written after initdb')`)
  } finally {
    await first.close()
  }
  const again = await open(CLUSTER, { sharedBuffers: '8MB', workMem: '2MB', maintenanceWorkMem: '8MB' })
  try {
    assert.is(again.createdCluster, undefined)
    assert.equal(await settings(again), { shared_buffers: '8MB', work_mem: '2MB', maintenance_work_mem: '8MB' })
    const { rows } = await again.database.query<{ body: string }>('SELECT body FROM kept')
    assert.equal(rows, [{ body: 'written after initdb' }])
  } finally {
    await again.close()
  }
})

test('a move into the folder cut short resumes on the next open', async () => {
  // The state an interrupted move leaves: initdb done, some entries moved, PG_VERSION not yet.
  const built = join(CLUSTER, '.initdb-done')
  mkdirSync(built)
  const entries = readdirSync(CLUSTER).filter((entry) => entry !== '.initdb-done')
  for (const entry of entries) renameSync(join(CLUSTER, entry), join(built, entry))
  for (const entry of entries.filter((e) => e !== 'PG_VERSION').slice(0, 5)) renameSync(join(built, entry), join(CLUSTER, entry))
  const resumed = await open(CLUSTER)
  try {
    assert.is(resumed.createdCluster, undefined)
    assert.not.ok(existsSync(built))
    const { rows } = await resumed.database.query<{ body: string }>('SELECT body FROM kept')
    assert.equal(rows, [{ body: 'written after initdb' }])
  } finally {
    await resumed.close()
  }
})

test('a setting PostgreSQL refuses fails the open with its reason', async () => {
  const error = await rejection(open(CLUSTER, { ...PGLITE_DEFAULTS, sharedBuffers: '16kB' }))
  assert.instance(error, DatabaseUnavailableError)
  assert.match(error.message, /shared_buffers/)
})

test('a folder holding files but no cluster is refused and left as it was', async () => {
  const dir = join(tmp, 'not-a-cluster')
  mkdirSync(dir)
  writeFileSync(join(dir, 'notes.txt'), 'mine')
  const error = await rejection(open(dir))
  assert.instance(error, DatabaseUnavailableError)
  assert.match(error.message, /notes\.txt.*no PG_VERSION/)
  assert.equal(readdirSync(dir), ['notes.txt'])
})

test('memory sizes take PostgreSQL forms', () => {
  for (const good of ['16MB', '512kB', '1GB', '2048']) assert.ok(PG_MEMORY_SIZE.test(good), good)
  for (const bad of ['16 MB', '16mb', 'lots', '0', '-1MB', '']) assert.not.ok(PG_MEMORY_SIZE.test(bad), bad)
})

test('kernel: a DB_PGLITE_* value of the wrong form stops the boot naming the variable, before any folder is touched', async () => {
  const dataDir = join(tmp, 'kernel')
  const error = await rejection(startTestKernel({ plugins: [PLUGIN_DIR], env: { DATABASE_URL: '', DATA_DIR: dataDir, DB_PGLITE_SHARED_BUFFERS: 'plenty' } }))
  assert.match(error.message, /DB_PGLITE_SHARED_BUFFERS/)
  assert.not.ok(existsSync(join(dataDir, 'db')))
})

test.run()
