// Per-plugin migrations, recorded in `armature_migrations` and applied in one transaction.
import type { DatabaseBackend, Migration } from './database.ts'
import { MigrationError } from './errors.ts'

const LEDGER = `CREATE TABLE IF NOT EXISTS armature_migrations (
  plugin text NOT NULL,
  id text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (plugin, id)
)`

// Two processes (or two generations) starting at once must not both apply a migration:
// a transaction-scoped advisory lock serialises them, and the second then sees the ledger rows.
const LOCK = `SELECT pg_advisory_xact_lock(hashtext('armature_migrations'))`

function check(plugin: string, migrations: readonly Migration[]): void {
  const seen = new Set<string>()
  for (const [index, migration] of migrations.entries()) {
    const id = migration?.id
    if (typeof id !== 'string' || id.length === 0) throw new MigrationError(plugin, String(index), `migrations[${index}].id must be a non-empty string`)
    if (typeof migration.sql !== 'string' || migration.sql.trim() === '') throw new MigrationError(plugin, id, 'sql must be a non-empty string')
    if (seen.has(id)) throw new MigrationError(plugin, id, 'the id appears twice in the list')
    seen.add(id)
  }
}

export async function migrate(backend: DatabaseBackend, plugin: string, migrations: readonly Migration[]): Promise<string[]> {
  check(plugin, migrations)
  // CREATE TABLE IF NOT EXISTS can still race with itself; the lock is taken first.
  return backend.transaction(async (tx) => {
    await tx.query(LOCK)
    await tx.exec(LEDGER)
    const { rows } = await tx.query<{ id: string }>('SELECT id FROM armature_migrations WHERE plugin = $1', [plugin])
    const done = new Set(rows.map((row) => row.id))
    const applied: string[] = []
    for (const migration of migrations) {
      if (done.has(migration.id)) continue
      try {
        await tx.exec(migration.sql)
      } catch (error) {
        throw new MigrationError(plugin, migration.id, (error as Error).message, { cause: error })
      }
      await tx.query('INSERT INTO armature_migrations (plugin, id) VALUES ($1, $2)', [plugin, migration.id])
      applied.push(migration.id)
    }
    return applied
  })
}
