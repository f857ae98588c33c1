// Named errors of the shortener; each carries the HTTP status the kernel's plugin mount answers with.

export abstract class ShortenerError extends Error {
  abstract readonly status: 400 | 401 | 403 | 404 | 409 | 410 | 413 | 502 | 504
}

/** A request field that is missing, of the wrong type or out of range. */
export class InvalidFieldError extends ShortenerError {
  override name = 'InvalidFieldError'
  readonly status = 400
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`)
  }
}

export class SlugTakenError extends ShortenerError {
  override name = 'SlugTakenError'
  readonly status = 409
  constructor(readonly slug: string) {
    super(`slug ${JSON.stringify(slug)} is already taken`)
  }
}

export class LinkNotFoundError extends ShortenerError {
  override name = 'LinkNotFoundError'
  readonly status = 404
  constructor(readonly slug: string) {
    super(`no link ${JSON.stringify(slug)}`)
  }
}

/** The link exists but no longer leads anywhere: it expired or used up its visits. */
export class LinkGoneError extends ShortenerError {
  override name = 'LinkGoneError'
  readonly status = 410
  constructor(
    readonly slug: string,
    readonly reason: 'expired' | 'visits exhausted',
  ) {
    super(`link ${JSON.stringify(slug)} is no longer available: ${reason}`)
  }
}

/** Could not find a free generated slug after several attempts (the key space is nearly full). */
export class SlugSpaceExhaustedError extends Error {
  override name = 'SlugSpaceExhaustedError'
}
