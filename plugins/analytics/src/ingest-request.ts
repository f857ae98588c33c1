// Turning one POST /analytics into the row to store: the user from X-Tantum-Authorization, the
// allowed headers and the body as JSON (never base64), the time from the server clock.
import { IngestError } from './errors.ts'

export const USER_HEADER = 'X-Tantum-Authorization'

export const DEFAULT_HEADER_ALLOW_LIST = ['User-Agent', 'X-Tantum-UserAgent', 'Content-Type', 'Accept-Language', 'X-Forwarded-For'] as const

/** One raw row as written to raw_analytics. */
export interface RawRow {
  time: Date
  userId: string
  /** `{"headers":{...},"body":{...}}`, already JSON text: jsonb parses it once, in PostgreSQL. */
  data: string
  traceparent: string | null
  /** What `data` was made of, for a worker of this instance that takes the row straight from ingest. */
  headers: Record<string, string>
  body: Record<string, unknown>
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** Reads a request header by its lower-case name. */
export type HeaderLookup = (lowerCaseName: string) => string | undefined

/** The allow-list as given (its spelling is the stored key) with the lower-case names to look up. */
export class HeaderAllowList {
  readonly #names: ReadonlyArray<readonly [stored: string, lookup: string]>
  constructor(names: readonly string[]) {
    const seen = new Set<string>()
    const pairs: Array<[string, string]> = []
    for (const name of names) {
      if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) throw new TypeError(`header allow-list: ${JSON.stringify(name)} is not a header name`)
      const lower = name.toLowerCase()
      if (!seen.has(lower)) pairs.push([name, lower])
      seen.add(lower)
    }
    this.#names = pairs
  }

  pick(header: HeaderLookup): Record<string, string> {
    const picked: Record<string, string> = {}
    for (const [stored, lookup] of this.#names) {
      const value = header(lookup)
      if (value !== undefined) picked[stored] = value
    }
    return picked
  }
}

/** The user id from X-Tantum-Authorization, lower-cased; 400 naming the header when missing or not a UUID. */
export function userIdOf(header: HeaderLookup): string {
  const value = header('x-tantum-authorization')
  if (value === undefined || value.trim() === '') throw new IngestError(`missing ${USER_HEADER} header: send the user's id as a UUID`, USER_HEADER)
  const id = value.trim()
  if (!UUID.test(id)) throw new IngestError(`${USER_HEADER} header must be a UUID like 2daba111-1e48-4ba1-8753-2daba1119a09, got ${JSON.stringify(id.slice(0, 80))}`, USER_HEADER)
  return id.toLowerCase()
}

/**
 * The body checked for what jsonb refuses: it must be a JSON object, and no string or key may
 * hold U+0000 or a lone surrogate (PostgreSQL rejects both, which would fail the whole batch).
 */
export function checkBody(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new IngestError('request body must be a JSON object', 'body')
  const bad = unstorable(body)
  if (bad) throw new IngestError(`request body holds ${bad}, which PostgreSQL's jsonb cannot store`, 'body')
  return body as Record<string, unknown>
}

function unstorable(value: unknown): string | undefined {
  const stack: unknown[] = [value]
  while (stack.length > 0) {
    const item = stack.pop()
    if (typeof item === 'string') {
      const found = badText(item)
      if (found) return found
    } else if (typeof item === 'object' && item !== null) {
      for (const key of Object.keys(item)) {
        const found = badText(key)
        if (found) return found
        stack.push((item as Record<string, unknown>)[key])
      }
    }
  }
  return undefined
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

function badText(text: string): string | undefined {
  if (text.includes('\u0000')) return 'a \\u0000 character'
  if (LONE_SURROGATE.test(text)) return 'a lone UTF-16 surrogate'
  return undefined
}

/** The row for one request. `traceparent` is the ingest span's (or the caller's) W3C trace context. */
export function rawRow(userId: string, headers: Record<string, string>, body: Record<string, unknown>, traceparent: string | null, now = new Date()): RawRow {
  // Whole seconds, as timestamptz(0) keeps them: PostgreSQL would round 12:00:59.7 up to 12:01:00,
  // a time after the request arrived, in a minute a stats query up to now does not yet cover.
  return { time: new Date(now.getTime() - (now.getTime() % 1000)), userId, data: JSON.stringify({ headers, body }), traceparent, headers, body }
}
