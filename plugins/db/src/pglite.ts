// The embedded backend: PGlite (PostgreSQL compiled to WebAssembly) in a data folder.
import { mkdirSync } from 'node:fs'
import { PGlite, type Transaction } from '@electric-sql/pglite'
import type { DatabaseBackend, Queryable, QueryResult } from './database.ts'
import { DatabaseUnavailableError } from './errors.ts'

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

/** Boots PGlite in `dataDir` (seconds on first use, when it creates the cluster). */
export async function openPglite(dataDir: string): Promise<DatabaseBackend> {
  let db: PGlite
  try {
    // PGlite creates the cluster folder itself but not its parents.
    mkdirSync(dataDir, { recursive: true })
    db = await PGlite.create(dataDir)
  } catch (error) {
    throw new DatabaseUnavailableError(`cannot open embedded PGlite in ${dataDir}: ${(error as Error).message}`, { cause: error })
  }
  const shared = queryableOf(db)
  return {
    kind: 'pglite',
    query: shared.query,
    exec: shared.exec,
    // PGlite has one connection; its transaction holds it, so other queries wait their turn.
    transaction: (fn) => db.transaction((tx) => fn(queryableOf(tx))),
    close: () => db.close(),
  }
}
