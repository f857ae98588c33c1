// Errors with the HTTP status they answer as (the kernel's plugin mount reads `status` and `headers`).

/** The request is wrong: a header or the body; `field` names which. */
export class IngestError extends Error {
  override name = 'IngestError'
  readonly status = 400
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message)
  }
}

/**
 * The row was not committed in time or not accepted at all: the answer is 503 (or 429 when the
 * queue of waiting requests is full) with Retry-After, and the client sends it again.
 */
export class IngestUnavailableError extends Error {
  override name = 'IngestUnavailableError'
  readonly headers: Record<string, string>
  constructor(
    message: string,
    readonly status: 429 | 503,
    readonly retryAfterSeconds: number,
    options?: { cause?: unknown },
  ) {
    super(message, options)
    this.headers = { 'retry-after': String(retryAfterSeconds) }
  }
}

/** An admin request names a row that is not there or not in a state it applies to. */
export class RowStateError extends Error {
  override name = 'RowStateError'
  constructor(
    message: string,
    readonly status: 404 | 409,
  ) {
    super(message)
  }
}
