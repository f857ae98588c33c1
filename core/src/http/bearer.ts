// The one bearer-token check. Both sides are hashed with SHA-256 before timingSafeEqual, so
// the comparison takes the same time whatever the tokens hold and however long they are
// (comparing the raw bytes would have to refuse unequal lengths early, and leak the length).
import { createHash, timingSafeEqual } from 'node:crypto'
import type { Context, MiddlewareHandler, Next } from 'hono'

export type BearerCheck = 'ok' | 'disabled' | 'missing' | 'wrong'

export interface RequireBearerOptions {
  /** The 403 message while no token is configured, naming the setting that enables the routes. */
  disabled?: string
}

const SCHEME = /^bearer[ \t]+(.*)$/is

/** The token of an `Authorization: Bearer <token>` header (the scheme in any case), or undefined. */
export function bearerToken(authorization: string | undefined): string | undefined {
  const match = authorization === undefined ? null : SCHEME.exec(authorization)
  const token = match?.[1]!.trim()
  return token ? token : undefined
}

/** Compares an `Authorization` header with the configured token in constant time. */
export function checkBearer(expected: string | undefined, authorization: string | undefined): BearerCheck {
  if (!expected) return 'disabled'
  const given = bearerToken(authorization)
  if (given === undefined) return 'missing'
  return timingSafeEqual(digest(given), digest(expected)) ? 'ok' : 'wrong'
}

/**
 * Hono middleware: 403 while `token` is unset, 401 with `WWW-Authenticate: Bearer` for a
 * missing or wrong token, else the route runs.
 */
export function requireBearer(token: string | undefined, options: RequireBearerOptions = {}): MiddlewareHandler {
  const disabled = options.disabled ?? 'this route is disabled: no bearer token is configured'
  return async (c: Context, next: Next) => {
    const check = checkBearer(token, c.req.header('authorization'))
    if (check === 'disabled') return c.json({ error: disabled }, 403)
    if (check === 'missing') return c.json({ error: 'missing bearer token: send Authorization: Bearer <token>' }, 401, { 'www-authenticate': 'Bearer' })
    if (check === 'wrong') return c.json({ error: 'wrong bearer token' }, 401, { 'www-authenticate': 'Bearer' })
    await next()
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest()
}
