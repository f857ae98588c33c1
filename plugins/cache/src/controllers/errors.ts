// One status code per error class; anything else is a 500 that does not leak internals.
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import { AlreadyExistsError, ClosedError, InvalidNameError, NotFoundError, PreconditionFailedError, ValidationError } from '../errors.ts'
import { LogWriteError } from '../file-log.ts'

/** A request the HTTP layer itself rejects (body, headers, media type). */
export class HttpError extends Error {
  override name = 'HttpError'
  constructor(
    readonly status: ContentfulStatusCode,
    message: string,
  ) {
    super(message)
  }
}

export function statusOf(err: unknown): ContentfulStatusCode {
  if (err instanceof HttpError) return err.status
  if (err instanceof InvalidNameError || err instanceof ValidationError) return 400
  if (err instanceof NotFoundError) return 404
  if (err instanceof AlreadyExistsError) return 409
  if (err instanceof PreconditionFailedError) return 412
  if (err instanceof ClosedError) return 503
  if (err instanceof LogWriteError) return 500
  return 500
}

export function messageOf(err: unknown, status: number): string {
  if (err instanceof LogWriteError) return `the write was applied in memory but could not be made durable: ${err.message}`
  if (status === 500) return 'internal error'
  return (err as Error).message
}
