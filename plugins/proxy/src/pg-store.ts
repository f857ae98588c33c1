// The registered servers in PostgreSQL: one row per server, the whole list replaced in one
// transaction per change, so a crash leaves either the old list or the new one.
import type { LoadedServer, ServerStore, StoredServer } from './persistence.ts'

/** What the store needs of a PostgreSQL client (the db plugin's API fits). */
export interface SqlClient {
  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<{ rows: R[] }>
  transaction<T>(fn: (tx: { query(sql: string, params?: unknown[]): Promise<unknown> }) => Promise<T>): Promise<T>
}

export const TABLE = 'proxy_servers'

export const MIGRATIONS = [
  {
    id: '001-servers',
    sql: `CREATE TABLE ${TABLE} (
      position integer PRIMARY KEY,
      spec jsonb NOT NULL,
      created text NOT NULL
    )`,
  },
]

export class PgServerStore implements ServerStore {
  readonly where = `PostgreSQL table ${TABLE}`
  readonly #db: SqlClient
  #queue: Promise<void> = Promise.resolve()
  #latest: string | undefined

  constructor(db: SqlClient) {
    this.#db = db
  }

  async load(): Promise<LoadedServer[]> {
    const { rows } = await this.#db.query<{ spec: unknown; created: string }>(`SELECT spec, created FROM ${TABLE} ORDER BY position`)
    return rows.map((row) => {
      const spec = typeof row.spec === 'string' ? JSON.parse(row.spec) : row.spec
      return { record: spec && typeof spec === 'object' ? (spec as Record<string, unknown>) : {}, created: row.created }
    })
  }

  /** Replaces the list; concurrent saves are serialised and only the newest list is written. */
  save(servers: StoredServer[]): Promise<void> {
    this.#latest = JSON.stringify(servers.map((s) => ({ spec: s.spec, created: s.created })))
    const write = this.#queue.catch(() => undefined).then(() => this.#write())
    this.#queue = write
    return write
  }

  async #write(): Promise<void> {
    const list = this.#latest
    if (list === undefined) return
    this.#latest = undefined
    await this.#db.transaction(async (tx) => {
      await tx.query(`DELETE FROM ${TABLE}`)
      await tx.query(
        `INSERT INTO ${TABLE} (position, spec, created)
         SELECT t.position, t.entry -> 'spec', t.entry ->> 'created'
         FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS t(entry, position)`,
        [list],
      )
    })
  }
}
