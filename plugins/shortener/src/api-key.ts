// Bearer API key check for the management routes, in constant time.
import { createHash, timingSafeEqual } from 'node:crypto'

export type KeyCheck = 'ok' | 'disabled' | 'missing' | 'wrong'

const digest = (value: string): Buffer => createHash('sha256').update(value).digest()

export function checkApiKey(configured: string, authorization: string | undefined): KeyCheck {
  if (!configured) return 'disabled'
  const match = /^Bearer\s+(.+)$/i.exec(authorization ?? '')
  if (!match) return 'missing'
  // Comparing digests keeps the comparison constant-time whatever the lengths.
  return timingSafeEqual(digest(match[1]!.trim()), digest(configured)) ? 'ok' : 'wrong'
}
