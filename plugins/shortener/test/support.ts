// Reading what the shortener stored, straight from PostgreSQL.
import pg from 'pg'

/** The visits stored for `slug` in the database at `url`. */
export async function storedVisitsIn(url: string, slug: string): Promise<number> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const { rows } = await client.query('SELECT visits::int AS n FROM shortener_links WHERE slug = $1', [slug])
    return rows[0].n as number
  } finally {
    await client.end()
  }
}
