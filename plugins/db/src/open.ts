// Chooses the backend: PostgreSQL when a URL is given, otherwise the embedded PGlite.
import type { Database, Migration } from './database.ts'
import { migrate } from './migrations.ts'
import { openPglite } from './pglite.ts'
import { openPostgres } from './postgres.ts'
import { leaseBackend } from './shared-backend.ts'

export interface OpenOptions {
  /** A postgres:// URL; empty selects PGlite in `dataDir`. */
  url: string
  dataDir: string
  poolSize: number
  connectTimeoutMs: number
}

export interface OpenDatabase {
  readonly database: Database
  /** True when an embedded instance opened earlier in this process was reused. */
  readonly reused: boolean
  /** Closes the pool, or gives back the lease on the embedded instance. */
  close(): Promise<void>
}

export async function openDatabase(options: OpenOptions): Promise<OpenDatabase> {
  let reused = false
  let backendClose: () => Promise<void>
  let backend
  if (options.url) {
    backend = await openPostgres(options)
    backendClose = backend.close
  } else {
    const lease = await leaseBackend(options.dataDir, () => openPglite(options.dataDir))
    backend = lease.backend
    reused = lease.reused
    backendClose = lease.release
  }
  const opened = backend
  const database: Database = {
    kind: opened.kind,
    query: opened.query,
    exec: opened.exec,
    transaction: opened.transaction,
    migrate: (plugin: string, migrations: readonly Migration[]) => migrate(opened, plugin, migrations),
  }
  return { database, reused, close: backendClose }
}
