// Slugs: generated ones are random base62, custom ones follow a pattern and avoid reserved words.
import { randomBytes } from 'node:crypto'

const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'
export const CUSTOM_SLUG = /^[A-Za-z0-9_-]{3,64}$/
// Every slug ever stored, generated or custom, whatever slugLength was then.
const SLUG_ALPHABET = /^[A-Za-z0-9_-]+$/

/** False for a string no link can have (a NUL, a space, a dot): it is unknown without asking the database. */
export function couldBeSlug(value: string): boolean {
  return SLUG_ALPHABET.test(value)
}

/** Words that look like routes or would confuse a reader of the short URL; compared case-insensitively. */
export const RESERVED_SLUGS: ReadonlySet<string> = new Set([
  'api',
  'admin',
  'links',
  'link',
  's',
  'shortener',
  'stats',
  'healthz',
  'readyz',
  'metrics',
  '_armature',
  'login',
  'logout',
  'signup',
  'static',
  'assets',
  'public',
  'new',
  'edit',
  'delete',
  'www',
  'help',
  'about',
  'robots.txt',
  'favicon.ico',
])

export function isReserved(slug: string): boolean {
  return RESERVED_SLUGS.has(slug.toLowerCase())
}

/** A uniformly random base62 string: bytes >= 248 are discarded so that `% 62` has no bias. */
export function generateSlug(length: number): string {
  let slug = ''
  while (slug.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte >= 248) continue
      slug += BASE62[byte % 62]
      if (slug.length === length) break
    }
  }
  return slug
}
