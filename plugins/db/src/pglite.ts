// The embedded backend: PGlite (PostgreSQL compiled to WebAssembly) in a data folder.
import { mkdirSync } from 'node:fs'
import { PGlite, type Transaction } from '@electric-sql/pglite'
import type { DatabaseBackend, Queryable, QueryResult } from './database.ts'
import { DatabaseUnavailableError } from './errors.ts'
import { ensureCluster, hasCluster, type ClusterCreated } from './pglite-cluster.ts'
import { PGLITE_DEFAULTS, settingArgs, type PgliteSettings } from './pglite-settings.ts'

/** PostgreSQL's FATAL lines name a bad setting; a few lines are kept for the error message. */
const STDERR_LINES = 20

export interface PgliteBackend extends DatabaseBackend {
  /** What this open's initdb did, or undefined when the folder already held a cluster. */
  readonly createdCluster: ClusterCreated | undefined
}

function queryableOf(client: PGlite | Transaction): Queryable {
  return {
    async query<R>(sql: string, params?: unknown[]): Promise<QueryResult<R>> {
      const result = await client.query<R>(sql, params)
      return { rows: result.rows, rowCount: result.affectedRows ?? 0 }
    },
    async exec(sql: string): Promise<void> {
      await client.exec(sql)
    },
  }
}

/** Opens PGlite in `dataDir`, creating the cluster first in a child process when the folder has none. */
export async function openPglite(dataDir: string, settings: PgliteSettings = PGLITE_DEFAULTS, signal?: AbortSignal): Promise<PgliteBackend> {
  let db: PGlite
  let createdCluster: ClusterCreated | undefined
  const stderr: string[] = []
  const args = settingArgs(settings)
  try {
    // PGlite creates the cluster folder itself but not its parents.
    mkdirSync(dataDir, { recursive: true })
    createdCluster = await ensureCluster(dataDir, args, signal)
    // PGlite would run initdb in this process on a folder without a cluster; that memory would stay.
    if (!hasCluster(dataDir)) throw new DatabaseUnavailableError(`${dataDir} has no PostgreSQL cluster (no PG_VERSION) after initdb`)
    db = await PGlite.create(dataDir, {
      startParams: [...PGlite.defaultStartParams, ...args],
      onStderr: (line) => {
        stderr.push(line)
        if (stderr.length > STDERR_LINES) stderr.shift()
        return false
      },
    })
  } catch (error) {
    if (error instanceof DatabaseUnavailableError) throw error
    const fatal = stderr.filter((line) => /FATAL|ERROR/.test(line)).join('; ')
    throw new DatabaseUnavailableError(`cannot open embedded PGlite in ${dataDir}: ${(error as Error).message}${fatal ? ` (${fatal})` : ''}`, { cause: error })
  }
  const shared = queryableOf(db)
  return {
    kind: 'pglite',
    createdCluster,
    query: shared.query,
    exec: shared.exec,
    // PGlite has one connection; its transaction holds it, so other queries wait their turn.
    transaction: (fn) => db.transaction((tx) => fn(queryableOf(tx))),
    close: () => db.close(),
  }
}
