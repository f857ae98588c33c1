// The PostgreSQL backend: a `pg` pool over DATABASE_URL.
import pg from 'pg'
import type { DatabaseBackend, Queryable, QueryResult } from './database.ts'
import { DatabaseUnavailableError } from './errors.ts'

export interface PostgresOptions {
  url: string
  poolSize: number
  connectTimeoutMs: number
}

function queryableOf(client: pg.Pool | pg.PoolClient): Queryable {
  return {
    async query<R>(sql: string, params?: unknown[]): Promise<QueryResult<R>> {
      const result = await client.query(sql, params as unknown[] | undefined)
      return { rows: result.rows as R[], rowCount: result.rowCount ?? 0 }
    },
    async exec(sql: string): Promise<void> {
      // Without parameters pg uses the simple protocol, which accepts several statements.
      await client.query(sql)
    },
  }
}

/** Opens a pool and checks it with one round trip, so a wrong URL fails start-up, not the first request. */
export async function openPostgres(options: PostgresOptions): Promise<DatabaseBackend> {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize,
    connectionTimeoutMillis: options.connectTimeoutMs,
  })
  // An idle client losing its server emits on the pool; without a listener that would crash the process.
  pool.on('error', () => {})
  try {
    await pool.query('SELECT 1')
  } catch (error) {
    await pool.end().catch(() => {})
    throw new DatabaseUnavailableError(`cannot reach PostgreSQL at ${redact(options.url)}: ${(error as Error).message}`, { cause: error })
  }
  const shared = queryableOf(pool)
  return {
    kind: 'postgres',
    query: shared.query,
    exec: shared.exec,
    async transaction(fn) {
      const client = await pool.connect()
      try {
        await client.query('BEGIN')
        const result = await fn(queryableOf(client))
        await client.query('COMMIT')
        return result
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {})
        throw error
      } finally {
        client.release()
      }
    },
    close: () => pool.end(),
  }
}

/** The URL without its password, for logs and errors. */
export function redact(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password) parsed.password = '***'
    return parsed.toString()
  } catch {
    return '(unparsable DATABASE_URL)'
  }
}
