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
  /**
   * NOTIFY `channel` with `payload` (under 8000 bytes). Inside a transaction it is delivered at
   * COMMIT and dropped by a rollback, as PostgreSQL does.
   */
  notify(channel: string, payload?: string): Promise<void>
  /**
   * Writes `rows` (each an array in `columns` order; values converted as query parameters are)
   * into `table` (`name` or `schema.name`, case kept); resolves the rows written. PostgreSQL:
   * one COPY FROM STDIN. PGlite: multi-row INSERTs in one transaction. Either way all or nothing.
   */
  copyFrom(table: string, columns: readonly string[], rows: Iterable<readonly unknown[]>): Promise<number>
}

export type DatabaseKind = 'postgres' | 'pglite'

export interface Migration {
  /** Unique within the plugin; recorded in `armature_migrations` once applied. */
  id: string
  sql: string
}

/** Called with each payload NOTIFY sends on the channel; a throw or rejection is logged, not fatal. */
export type NotificationHandler = (payload: string) => void | Promise<void>

export interface ListenOptions {
  /**
   * Called once the listening connection (PostgreSQL) is back after a loss and LISTENs again:
   * notifications sent in between were missed, so re-read whatever they would have announced.
   */
  onReconnect?: () => void
}

/** Stops one listen; calling it again does nothing. */
export type Unlisten = () => Promise<void>

export interface Database extends Queryable {
  readonly kind: DatabaseKind
  /** Runs `fn` inside BEGIN/COMMIT on one connection; a throw rolls back and rethrows. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>
  /** Applies the plugin's migrations that are not yet recorded, in order, in one transaction; returns the ids applied. */
  migrate(plugin: string, migrations: readonly Migration[]): Promise<string[]>
  /**
   * LISTEN on `channel` (letters, digits and `_`, not starting with a digit, at most 63; case
   * kept); resolves once listening. Closing the database ends every listen it started.
   */
  listen(channel: string, fn: NotificationHandler, options?: ListenOptions): Promise<Unlisten>
}

/** A backend's LISTEN: `fn` is already guarded against throwing, the channel already checked. */
export type BackendListen = (channel: string, fn: (payload: string) => void, onReconnect?: () => void) => Promise<Unlisten>

/** A backend: the API plus the means to let it go. */
export interface DatabaseBackend extends Queryable {
  readonly kind: DatabaseKind
  transaction: Database['transaction']
  listen: BackendListen
  close(): Promise<void>
}
