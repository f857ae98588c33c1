// Chooses the backend: PostgreSQL when a URL is given, otherwise the embedded PGlite.
import type { Database, DatabaseBackend, Migration } from './database.ts'
import { migrate } from './migrations.ts'
import { openPglite } from './pglite.ts'
import type { ClusterCreated } from './pglite-cluster.ts'
import type { PgliteSettings } from './pglite-settings.ts'
import { openPostgres } from './postgres.ts'
import { Subscriptions, type ListenerErrorReport } from './subscriptions.ts'

export interface OpenOptions {
  /** A postgres:// URL; empty selects PGlite in `dataDir`. */
  url: string
  /** The URL as errors may show it (without its password); default: the host alone. */
  shownUrl?: string
  dataDir: string
  poolSize: number
  connectTimeoutMs: number
  /** PostgreSQL memory settings for PGlite (default PGLITE_DEFAULTS). */
  pglite?: PgliteSettings
  /** Parameters per INSERT statement of copyFrom on PGlite (default INSERT_BATCH_PARAMS). */
  pgliteInsertBatchParams?: number
  /** Aborting it stops an initdb in progress. */
  signal?: AbortSignal
  /** Told when a listen handler throws or rejects (default: console.error). */
  onListenerError?: ListenerErrorReport
}

export interface OpenDatabase {
  readonly database: Database
  /** Set when this open created the embedded cluster (initdb, in a child process). */
  readonly createdCluster: ClusterCreated | undefined
  /** Ends every listen, then closes the pool or the embedded instance. */
  close(): Promise<void>
}

export async function openDatabase(options: OpenOptions): Promise<OpenDatabase> {
  let createdCluster: ClusterCreated | undefined
  let backend: DatabaseBackend
  if (options.url) {
    backend = await openPostgres({ ...options, shownUrl: options.shownUrl ?? hostOf(options.url) })
  } else {
    const embedded = await openPglite(options.dataDir, {
      ...(options.pglite ? { settings: options.pglite } : {}),
      ...(options.pgliteInsertBatchParams ? { insertBatchParams: options.pgliteInsertBatchParams } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    })
    createdCluster = embedded.createdCluster
    backend = embedded
  }
  const opened = backend
  const subscriptions = new Subscriptions(opened.listen, options.onListenerError ?? ((error, channel) => console.error(`db listener on ${channel} failed:`, error)))
  const database: Database = {
    kind: opened.kind,
    query: opened.query,
    exec: opened.exec,
    notify: opened.notify,
    copyFrom: opened.copyFrom,
    transaction: opened.transaction,
    migrate: (plugin: string, migrations: readonly Migration[]) => migrate(opened, plugin, migrations),
    listen: (channel, fn, listenOptions) => subscriptions.listen(channel, fn, listenOptions),
  }
  const close = async () => {
    await subscriptions.closeAll()
    await opened.close()
  }
  return { database, createdCluster, close }
}

/** Only the host of a URL, when no safe form of it was given. */
function hostOf(url: string): string {
  try {
    return new URL(url).host
  } catch {
    return '(unparsable DATABASE_URL)'
  }
}
