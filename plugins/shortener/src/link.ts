// What a short link is.

export type LinkMode = 'redirect' | 'proxy'
export type RedirectStatus = 301 | 302 | 307 | 308

export interface Link {
  slug: string
  url: string
  mode: LinkMode
  status: RedirectStatus
  /** ISO timestamp, or null for a link that never expires. */
  expiresAt: string | null
  maxVisits: number | null
  /** Visits stored in the database (pending in-memory visits are counted separately). */
  visits: number
  createdAt: string
  lastVisitAt: string | null
}

/** A validated request to create a link. */
export interface LinkInput {
  url: string
  slug: string | undefined
  mode: LinkMode
  status: RedirectStatus
  expiresAt: string | null
  maxVisits: number | null
}
