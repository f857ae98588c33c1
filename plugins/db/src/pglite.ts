// The embedded backend: PGlite (PostgreSQL compiled to WebAssembly) in a data folder.
import { mkdirSync } from 'node:fs'
import { PGlite, type Transaction } from '@electric-sql/pglite'
import { copyTarget, insertBatches } from './copy.ts'
import type { DatabaseBackend, Queryable, QueryResult } from './database.ts'
import { DatabaseUnavailableError } from './errors.ts'
import { quoteIdentifier } from './identifiers.ts'
import { notify } from './notify.ts'
import { ensureCluster, hasCluster, type ClusterCreated } from './pglite-cluster.ts'
import { PGLITE_DEFAULTS, settingArgs, type PgliteSettings } from './pglite-settings.ts'

/** PostgreSQL's FATAL lines name a bad setting; a few lines are kept for the error message. */
const STDERR_LINES = 20

export interface PgliteBackend extends DatabaseBackend {
  /** What this open's initdb did, or undefined when the folder already held a cluster. */
  readonly createdCluster: ClusterCreated | undefined
}

/** Parameters in one INSERT of copyFrom, unless set: PostgreSQL's own limit is 65535. */
export const INSERT_BATCH_PARAMS = 4000

export interface PgliteOptions {
  settings?: PgliteSettings
  /** Parameters per INSERT statement of copyFrom. */
  insertBatchParams?: number
  /** Aborting it stops an initdb in progress. */
  signal?: AbortSignal
}

async function insertAll(tx: Transaction, table: string, columns: readonly string[], rows: Iterable<readonly unknown[]>, maxParams: number): Promise<number> {
  let written = 0
  for (const { sql, params } of insertBatches(copyTarget(table, columns), rows, maxParams)) {
    written += (await tx.query(sql, params)).affectedRows ?? 0
  }
  return written
}

function queryableOf(client: PGlite | Transaction, maxParams: number): Queryable {
  const query = async <R>(sql: string, params?: unknown[]): Promise<QueryResult<R>> => {
    const result = await client.query<R>(sql, params)
    return { rows: result.rows, rowCount: result.affectedRows ?? 0 }
  }
  return {
    query,
    async exec(sql: string): Promise<void> {
      await client.exec(sql)
    },
    notify: (channel, payload) => notify(query, channel, payload),
    // Outside a transaction the batches get one of their own, so a failing row leaves none written, as COPY does.
    copyFrom: (table, columns, rows) =>
      client instanceof PGlite ? client.transaction((tx) => insertAll(tx, table, columns, rows, maxParams)) : insertAll(client, table, columns, rows, maxParams),
  }
}

/** Opens PGlite in `dataDir`, creating the cluster first in a child process when the folder has none. */
export async function openPglite(dataDir: string, options: PgliteOptions = {}): Promise<PgliteBackend> {
  const { settings = PGLITE_DEFAULTS, insertBatchParams = INSERT_BATCH_PARAMS, signal } = options
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
  return {
    kind: 'pglite',
    createdCluster,
    ...queryableOf(db, insertBatchParams),
    // PGlite has one connection; its transaction holds it, so other queries wait their turn.
    transaction: (fn) => db.transaction((tx) => fn(queryableOf(tx, insertBatchParams))),
    // PGlite's own LISTEN: its one connection hears the notifications after each statement, in process.
    async listen(channel, fn) {
      const unlisten = await db.listen(quoteIdentifier(channel, 'channel'), fn)
      return () => unlisten()
    },
    close: () => db.close(),
  }
}
