// Checking a create request: every refusal names the field.
import { parseDateTime } from './date-time.ts'
import { InvalidFieldError } from './errors.ts'
import type { LinkInput, LinkMode, RedirectStatus } from './link.ts'
import { CUSTOM_SLUG, isReserved } from './slug.ts'

export const MAX_URL_LENGTH = 2048
const MODES: readonly LinkMode[] = ['redirect', 'proxy']
const STATUSES: readonly RedirectStatus[] = [301, 302, 307, 308]
const FIELDS = new Set(['url', 'slug', 'mode', 'status', 'expiresAt', 'maxVisits'])

/** A destination must be an absolute http(s) URL: javascript:, data:, file: and the like would run or read on the visitor's side. */
export function checkDestination(value: unknown, field = 'url'): string {
  if (typeof value !== 'string' || value.trim() === '') throw new InvalidFieldError(field, 'must be a non-empty string')
  if (value.length > MAX_URL_LENGTH) throw new InvalidFieldError(field, `must be at most ${MAX_URL_LENGTH} characters`)
  let parsed: URL
  try {
    parsed = new URL(value)
  } catch {
    throw new InvalidFieldError(field, `${JSON.stringify(value)} is not an absolute URL`)
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new InvalidFieldError(field, `scheme ${JSON.stringify(parsed.protocol)} is not allowed; use http: or https:`)
  }
  if (!parsed.hostname) throw new InvalidFieldError(field, 'must name a host')
  if (parsed.username || parsed.password) throw new InvalidFieldError(field, 'must not carry credentials')
  return parsed.toString()
}

export function checkCustomSlug(value: unknown): string {
  if (typeof value !== 'string' || !CUSTOM_SLUG.test(value)) {
    throw new InvalidFieldError('slug', 'must be 3-64 characters of A-Z, a-z, 0-9, _ and -')
  }
  if (isReserved(value)) throw new InvalidFieldError('slug', `${JSON.stringify(value)} is reserved`)
  return value
}

export function parseLinkInput(body: unknown, now: Date = new Date()): LinkInput {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new InvalidFieldError('body', 'must be a JSON object')
  const fields = body as Record<string, unknown>
  for (const key of Object.keys(fields)) if (!FIELDS.has(key)) throw new InvalidFieldError(key, 'unknown field')

  const url = checkDestination(fields.url)
  const slug = fields.slug === undefined || fields.slug === null ? undefined : checkCustomSlug(fields.slug)

  const mode = (fields.mode ?? 'redirect') as LinkMode
  if (!MODES.includes(mode)) throw new InvalidFieldError('mode', `must be one of ${MODES.join(', ')}`)

  const status = (fields.status ?? 302) as RedirectStatus
  if (!STATUSES.includes(status)) throw new InvalidFieldError('status', `must be one of ${STATUSES.join(', ')}`)

  let expiresAt: string | null = null
  if (fields.expiresAt !== undefined && fields.expiresAt !== null) {
    if (typeof fields.expiresAt !== 'string') throw new InvalidFieldError('expiresAt', 'must be an ISO 8601 date-time string, like 2030-01-01T00:00:00Z')
    const at = parseDateTime(fields.expiresAt)
    if (typeof at !== 'number') throw new InvalidFieldError('expiresAt', `${JSON.stringify(fields.expiresAt)} ${at.invalid}`)
    if (at <= now.getTime()) throw new InvalidFieldError('expiresAt', 'must be in the future')
    expiresAt = new Date(at).toISOString()
  }

  let maxVisits: number | null = null
  if (fields.maxVisits !== undefined && fields.maxVisits !== null) {
    const n = fields.maxVisits
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 2 ** 31 - 1) {
      throw new InvalidFieldError('maxVisits', 'must be a positive integer')
    }
    maxVisits = n
  }
  return { url, slug, mode, status, expiresAt, maxVisits }
}
