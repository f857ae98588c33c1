// The bearer check the management routes are given: the kernel's `requireBearer` (constant
// time, the scheme in any case, 401 with WWW-Authenticate), passed in so src/ stays free of
// kernel imports.
import type { MiddlewareHandler } from 'hono'

export type RequireBearer = (token: string | undefined, options: { disabled: string }) => MiddlewareHandler

const ENABLE = 'set SHORTENER_API_KEY (or plugins.shortener.apiKey) to enable it'

/** Guards for the management routes: one for managing links, one for creating them. */
export function apiKeyGuards(requireBearer: RequireBearer, apiKey: string): { manage: MiddlewareHandler; create: MiddlewareHandler } {
  const key = apiKey || undefined
  return {
    manage: requireBearer(key, { disabled: `managing links is disabled: ${ENABLE}` }),
    create: requireBearer(key, { disabled: `creating links is disabled: ${ENABLE}` }),
  }
}
