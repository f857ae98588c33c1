// Named errors of the db facility.

/** A migration list that cannot be applied as given (a duplicate or empty id, a failing statement). */
export class MigrationError extends Error {
  override name = 'MigrationError'
  constructor(
    readonly plugin: string,
    readonly migrationId: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`migration ${plugin}/${migrationId}: ${message}`, options)
  }
}

/** The database could not be reached or opened at start-up. */
export class DatabaseUnavailableError extends Error {
  override name = 'DatabaseUnavailableError'
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
  }
}

/** An argument the database API refuses before sending anything: a channel, table or column name, a row, a payload. */
export class DatabaseInputError extends Error {
  override name = 'DatabaseInputError'
}
