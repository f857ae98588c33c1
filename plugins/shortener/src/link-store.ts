// Links in PostgreSQL (or PGlite): the same SQL on both.
import { randomUUID } from 'node:crypto'
import { SlugTakenError } from './errors.ts'
import type { Link, LinkInput, LinkMode, RedirectStatus } from './link.ts'

/** The part of the db plugin's API the store needs (structural, so src/ imports nothing of it). */
export interface SqlClient {
  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<{ rows: R[]; rowCount: number }>
}

export const MIGRATIONS = [
  {
    id: '001-links',
    sql: `CREATE TABLE shortener_links (
      slug text PRIMARY KEY,
      url text NOT NULL,
      mode text NOT NULL,
      status integer NOT NULL,
      expires_at timestamptz,
      max_visits integer,
      visits bigint NOT NULL DEFAULT 0,
      created_at timestamptz NOT NULL DEFAULT now(),
      last_visit_at timestamptz
    )`,
  },
  {
    // The last visit batch each counter applied, so a batch written again after a lost answer counts once.
    id: '002-visit-writers',
    sql: `CREATE TABLE shortener_visit_writers (
      writer uuid PRIMARY KEY,
      batch bigint NOT NULL,
      chunk integer NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now()
    )`,
  },
]

/** Writers not heard from for this long are forgotten: a process retries a batch within seconds, not weeks. */
const WRITER_RETENTION = '7 days'

const UNIQUE_VIOLATION = '23505'
// Two parameters per row; PostgreSQL allows 65535 parameters per statement.
const MAX_ROWS_PER_UPDATE = 5000

interface Row {
  slug: string
  url: string
  mode: string
  status: number
  expires_at: Date | string | null
  max_visits: number | null
  visits: string | number | bigint
  created_at: Date | string
  last_visit_at: Date | string | null
}

const iso = (value: Date | string | null): string | null => (value === null ? null : new Date(value).toISOString())

function toLink(row: Row): Link {
  return {
    slug: row.slug,
    url: row.url,
    mode: row.mode as LinkMode,
    status: row.status as RedirectStatus,
    expiresAt: iso(row.expires_at),
    maxVisits: row.max_visits,
    visits: Number(row.visits),
    createdAt: iso(row.created_at)!,
    lastVisitAt: iso(row.last_visit_at),
  }
}

export class LinkStore {
  readonly #sql: SqlClient
  /** This store's name among the writers of visit batches: one per process start. */
  readonly #writer = randomUUID()

  constructor(sql: SqlClient) {
    this.#sql = sql
  }

  /** Inserts the link; a slug already present is a SlugTakenError (the unique index decides, not a prior SELECT). */
  async insert(input: LinkInput & { slug: string }): Promise<Link> {
    try {
      const { rows } = await this.#sql.query<Row>(
        `INSERT INTO shortener_links (slug, url, mode, status, expires_at, max_visits)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING *`,
        [input.slug, input.url, input.mode, input.status, input.expiresAt, input.maxVisits],
      )
      return toLink(rows[0]!)
    } catch (error) {
      if ((error as { code?: string }).code === UNIQUE_VIOLATION) throw new SlugTakenError(input.slug)
      throw error
    }
  }

  async find(slug: string): Promise<Link | undefined> {
    const { rows } = await this.#sql.query<Row>('SELECT * FROM shortener_links WHERE slug = $1', [slug])
    return rows[0] ? toLink(rows[0]) : undefined
  }

  async delete(slug: string): Promise<boolean> {
    const { rowCount } = await this.#sql.query('DELETE FROM shortener_links WHERE slug = $1', [slug])
    return rowCount > 0
  }

  /**
   * Adds counted visits as batch `batch` of this store's writer: one multi-row UPDATE per chunk
   * of thousands of slugs, in the same statement as the writer's high-water mark, so a chunk
   * already applied (its answer lost with the connection) changes nothing when written again.
   */
  async addVisits(counts: ReadonlyMap<string, number>, batch: number): Promise<void> {
    const entries = [...counts]
    for (let start = 0, chunk = 0; start < entries.length; start += MAX_ROWS_PER_UPDATE, chunk++) {
      const rows = entries.slice(start, start + MAX_ROWS_PER_UPDATE)
      const values = rows.map((_, i) => `($${2 * i + 4}::text, $${2 * i + 5}::bigint)`).join(', ')
      await this.#sql.query(
        `WITH mark AS (
           INSERT INTO shortener_visit_writers AS w (writer, batch, chunk) VALUES ($1, $2, $3)
           ON CONFLICT (writer) DO UPDATE SET batch = EXCLUDED.batch, chunk = EXCLUDED.chunk, updated_at = now()
           WHERE (w.batch, w.chunk) < (EXCLUDED.batch, EXCLUDED.chunk)
           RETURNING 1
         )
         UPDATE shortener_links AS l SET visits = l.visits + v.n, last_visit_at = now()
         FROM (VALUES ${values}) AS v(slug, n) WHERE l.slug = v.slug AND EXISTS (SELECT 1 FROM mark)`,
        [this.#writer, batch, chunk, ...rows.flatMap(([slug, n]) => [slug, n])],
      )
    }
  }

  /** Forgets writers gone quiet (processes long stopped); run at start. */
  async pruneWriters(): Promise<void> {
    await this.#sql.query(`DELETE FROM shortener_visit_writers WHERE updated_at < now() - interval '${WRITER_RETENTION}'`)
  }
}
