// One status code per error class; anything else is a 500 that does not leak internals.
// Errors of the HTTP layer itself (the kernel's body reader: 413, 415, 400) carry their status.
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import { AlreadyExistsError, ClosedError, InvalidNameError, NotFoundError, PreconditionFailedError, ValidationError } from '../errors.ts'
import { LogUnavailableError, LogWriteError } from '../file-log.ts'

export function statusOf(err: unknown): ContentfulStatusCode {
  if (err instanceof InvalidNameError || err instanceof ValidationError) return 400
  if (err instanceof NotFoundError) return 404
  if (err instanceof AlreadyExistsError) return 409
  if (err instanceof PreconditionFailedError) return 412
  if (err instanceof ClosedError || err instanceof LogUnavailableError) return 503
  if (err instanceof LogWriteError) return 500
  const status = (err as { status?: unknown } | null)?.status
  if (typeof status === 'number' && Number.isInteger(status) && status >= 400 && status <= 599) return status as ContentfulStatusCode
  return 500
}

export function messageOf(err: unknown, status: number): string {
  if (err instanceof LogWriteError) return `the write was applied in memory but could not be made durable: ${err.message}`
  if (status === 500) return 'internal error'
  return (err as Error).message
}
