// Every failure the domain can report, as a named class. The HTTP controllers map each
// class to one status code (see controllers/errors.ts); the CLI prints the message.

/** Base class, so callers can tell the cache's own errors from anything unexpected. */
export class CacheError extends Error {
  override name = 'CacheError'
}

/** A collection name or document id that does not match the allowed pattern. */
export class InvalidNameError extends CacheError {
  override name = 'InvalidNameError'
}

/** A request value (body, TTL, limit, cursor) that is not acceptable. */
export class ValidationError extends CacheError {
  override name = 'ValidationError'
}

export class NotFoundError extends CacheError {
  override name = 'NotFoundError'
  constructor(
    readonly collection: string,
    readonly id: string,
  ) {
    super(`document ${collection}/${id} not found`)
  }
}

/** POST with an id that already exists. */
export class AlreadyExistsError extends CacheError {
  override name = 'AlreadyExistsError'
  constructor(
    readonly collection: string,
    readonly id: string,
  ) {
    super(`document ${collection}/${id} already exists`)
  }
}

/** If-Match did not match the document's current ETag. */
export class PreconditionFailedError extends CacheError {
  override name = 'PreconditionFailedError'
  constructor(
    readonly expected: string,
    readonly actual: string | undefined,
  ) {
    super(`If-Match ${expected} does not match the current ETag ${actual ?? '(none: document does not exist)'}`)
  }
}

/** A value the log cannot encode (nested too deep for JSON.stringify); the write is refused. */
export class UnencodableError extends ValidationError {
  override name = 'UnencodableError'
}

/** A log, snapshot or dump that cannot be decoded. */
export class CorruptDataError extends CacheError {
  override name = 'CorruptDataError'
}

/** An invalid option passed to the cache (for example an unknown fsync policy). */
export class CacheConfigError extends CacheError {
  override name = 'CacheConfigError'
}

/** The store was closed; writes after close would never reach the log. */
export class ClosedError extends CacheError {
  override name = 'ClosedError'
  constructor() {
    super('the cache is closed')
  }
}
