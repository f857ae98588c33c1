// The PostgreSQL backend: a `pg` pool over DATABASE_URL.
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import pg from 'pg'
import { from as copyFromStdin } from 'pg-copy-streams'
import { copyTarget, copyText } from './copy.ts'
import type { DatabaseBackend, Queryable, QueryResult } from './database.ts'
import { DatabaseUnavailableError } from './errors.ts'
import { notify } from './notify.ts'
import { PgListener } from './pg-listener.ts'

export interface PostgresOptions {
  url: string
  /** The URL as errors may show it (without its password). */
  shownUrl: string
  poolSize: number
  connectTimeoutMs: number
}

/** One COPY FROM STDIN on one connection; the stream waits for the socket (backpressure). */
async function copyOn(client: pg.PoolClient, table: string, columns: readonly string[], rows: Iterable<readonly unknown[]>): Promise<number> {
  const target = copyTarget(table, columns)
  const stream = client.query(copyFromStdin(`COPY ${target.table} (${target.columns}) FROM STDIN`))
  // A bad row ends the source with an error; pipeline then destroys the COPY, which sends
  // CopyFail, so PostgreSQL writes none of the rows.
  await pipeline(Readable.from(copyText(target, rows)), stream)
  return stream.rowCount
}

// pg-pool takes its error listener off a client while it is checked out, and a pg client whose
// connection breaks emits 'error': without a listener of our own, a connection lost in the middle
// of a transaction or COPY would crash the process. The failed query rejects as well, and the
// pool drops a client that is no longer queryable when it comes back. The listener stays on (a
// dropped client may still report its end), added once per client.
const ignoreLoss = () => {}

async function checkOut(pool: pg.Pool): Promise<pg.PoolClient> {
  const client = await pool.connect()
  if (!client.listeners('error').includes(ignoreLoss)) client.on('error', ignoreLoss)
  return client
}

function release(client: pg.PoolClient, error?: Error): void {
  client.release(error)
}

function queryableOf(client: pg.Pool | pg.PoolClient): Queryable {
  const query = async <R>(sql: string, params?: unknown[]): Promise<QueryResult<R>> => {
    const result = await client.query(sql, params as unknown[] | undefined)
    return { rows: result.rows as R[], rowCount: result.rowCount ?? 0 }
  }
  return {
    query,
    async exec(sql: string): Promise<void> {
      // Without parameters pg uses the simple protocol, which accepts several statements.
      await client.query(sql)
    },
    notify: (channel, payload) => notify(query, channel, payload),
    async copyFrom(table, columns, rows) {
      if (!(client instanceof pg.Pool)) return copyOn(client, table, columns, rows)
      const connection = await checkOut(client)
      let failed: Error | undefined
      try {
        return await copyOn(connection, table, columns, rows)
      } catch (error) {
        failed = error as Error
        throw error
      } finally {
        // A connection whose COPY failed is not handed out again.
        release(connection, failed)
      }
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
    throw new DatabaseUnavailableError(`cannot reach PostgreSQL at ${options.shownUrl}: ${(error as Error).message}`, { cause: error })
  }
  const shared = queryableOf(pool)
  const listener = new PgListener({ url: options.url, connectTimeoutMs: options.connectTimeoutMs })
  return {
    kind: 'postgres',
    ...shared,
    listen: (channel, fn, onReconnect) => listener.listen(channel, fn, onReconnect),
    async transaction(fn) {
      const client = await checkOut(pool)
      try {
        await client.query('BEGIN')
        const result = await fn(queryableOf(client))
        await client.query('COMMIT')
        return result
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {})
        throw error
      } finally {
        release(client)
      }
    },
    async close() {
      await listener.close()
      await pool.end()
    },
  }
}
