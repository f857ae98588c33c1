// Chooses the backend: PostgreSQL when a URL is given, otherwise the embedded PGlite.
import type { Database, DatabaseBackend, Migration } from './database.ts'
import { migrate } from './migrations.ts'
import { openPglite } from './pglite.ts'
import type { ClusterCreated } from './pglite-cluster.ts'
import { PGLITE_DEFAULTS, type PgliteSettings } from './pglite-settings.ts'
import { openPostgres } from './postgres.ts'
import { leaseBackend } from './shared-backend.ts'

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
  /** True when an embedded instance opened earlier in this process was reused. */
  readonly reused: boolean
  /** Set when this open created the embedded cluster (initdb, in a child process). */
  readonly createdCluster: ClusterCreated | undefined
  /** Closes the pool, or gives back the lease on the embedded instance. */
  close(): Promise<void>
}

export async function openDatabase(options: OpenOptions): Promise<OpenDatabase> {
  let reused = false
  let createdCluster: ClusterCreated | undefined
  let backendClose: () => Promise<void>
  let backend: DatabaseBackend
  if (options.url) {
    backend = await openPostgres(options)
    backendClose = backend.close
  } else {
    const lease = await leaseBackend(options.dataDir, async () => {
      const opened = await openPglite(options.dataDir, options.pglite ?? PGLITE_DEFAULTS, options.signal)
      createdCluster = opened.createdCluster
      return opened
    })
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
  return { database, reused, createdCluster, close: backendClose }
}
