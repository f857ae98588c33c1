// Chooses the backend: PostgreSQL when a URL is given, otherwise the embedded PGlite.
import type { Database, DatabaseBackend, Migration } from './database.ts'
import { migrate } from './migrations.ts'
import { openPglite } from './pglite.ts'
import type { ClusterCreated } from './pglite-cluster.ts'
import { PGLITE_DEFAULTS, type PgliteSettings } from './pglite-settings.ts'
import { openPostgres } from './postgres.ts'

export interface OpenOptions {
  /** A postgres:// URL; empty selects PGlite in `dataDir`. */
  url: string
  dataDir: string
  poolSize: number
  connectTimeoutMs: number
  /** PostgreSQL memory settings for PGlite (default PGLITE_DEFAULTS); a reused instance keeps those it was opened with. */
  pglite?: PgliteSettings
  /** Aborting it stops an initdb in progress. */
  signal?: AbortSignal
}

export interface OpenDatabase {
  readonly database: Database
  /** Set when this open created the embedded cluster (initdb, in a child process). */
  readonly createdCluster: ClusterCreated | undefined
  /** Closes the pool or the embedded instance. */
  close(): Promise<void>
}

export async function openDatabase(options: OpenOptions): Promise<OpenDatabase> {
  let createdCluster: ClusterCreated | undefined
  let backend: DatabaseBackend
  if (options.url) {
    backend = await openPostgres(options)
  } else {
    const embedded = await openPglite(options.dataDir, options.pglite ?? PGLITE_DEFAULTS, options.signal)
    createdCluster = embedded.createdCluster
    backend = embedded
  }
  const opened = backend
  const database: Database = {
    kind: opened.kind,
    query: opened.query,
    exec: opened.exec,
    transaction: opened.transaction,
    migrate: (plugin: string, migrations: readonly Migration[]) => migrate(opened, plugin, migrations),
  }
  return { database, createdCluster, close: () => opened.close() }
}
