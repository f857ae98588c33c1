// The shape every backend offers: the one API other plugins see through `ctx.use('db')`.

export interface QueryResult<R> {
  rows: R[]
  /** Rows inserted, updated or deleted by the statement (0 for a plain SELECT on PGlite). */
  rowCount: number
}

/** Runs statements on one connection (the pool, or the connection holding a transaction). */
export interface Queryable {
  /** One statement, with `$1`-style parameters. */
  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<QueryResult<R>>
  /** Several statements separated by `;`, without parameters (migrations). */
  exec(sql: string): Promise<void>
}

export type DatabaseKind = 'postgres' | 'pglite'

export interface Migration {
  /** Unique within the plugin; recorded in `armature_migrations` once applied. */
  id: string
  sql: string
}

export interface Database extends Queryable {
  readonly kind: DatabaseKind
  /** Runs `fn` inside BEGIN/COMMIT on one connection; a throw rolls back and rethrows. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>
  /** Applies the plugin's migrations that are not yet recorded, in order, in one transaction; returns the ids applied. */
  migrate(plugin: string, migrations: readonly Migration[]): Promise<string[]>
}

/** A backend: the API plus the means to let it go. */
export interface DatabaseBackend {
  readonly kind: DatabaseKind
  query: Queryable['query']
  exec: Queryable['exec']
  transaction: Database['transaction']
  close(): Promise<void>
}
