// The visit UPDATE against real PostgreSQL: a batch written twice (its first answer lost) counts once.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import pg from 'pg'
import { createTestDatabase, type TestDatabase } from '../../db/test/support.ts'
import { LinkStore, MIGRATIONS } from '../src/link-store.ts'

let database: TestDatabase
let client: pg.Client

test.before(async () => {
  database = await createTestDatabase('armature_shortener_store')
  client = new pg.Client({ connectionString: database.url })
  await client.connect()
  for (const migration of MIGRATIONS) await client.query(migration.sql)
})

test.after(async () => {
  await client?.end()
  await database?.drop()
})

const sql = {
  query: async (text: string, params?: unknown[]) => {
    const result = await client.query(text, params)
    return { rows: result.rows, rowCount: result.rowCount ?? 0 }
  },
}
const visitsOf = async (slug: string) => Number((await client.query('SELECT visits FROM shortener_links WHERE slug = $1', [slug])).rows[0].visits)

test('a batch number already applied changes nothing; each writer keeps its own numbers', async () => {
  const store = new LinkStore(sql)
  const other = new LinkStore(sql)
  await store.insert({ slug: 'kept', url: 'https://example.com/', mode: 'redirect', status: 302, expiresAt: null, maxVisits: null })
  await store.addVisits(new Map([['kept', 3]]), 1)
  await store.addVisits(new Map([['kept', 3]]), 1)
  assert.is(await visitsOf('kept'), 3, 'the repeated batch 1 counted once')
  await store.addVisits(new Map([['kept', 2]]), 2)
  assert.is(await visitsOf('kept'), 5)
  await other.addVisits(new Map([['kept', 1]]), 1)
  assert.is(await visitsOf('kept'), 6, "another writer's batch 1 is its own")
  await store.addVisits(new Map([['kept', 100]]), 1)
  assert.is(await visitsOf('kept'), 6, 'an older number than the last applied changes nothing')
})

test('past 5,000 slugs a batch goes in chunks, each skipped on its own when written again', async () => {
  const store = new LinkStore(sql)
  const slugs = Array.from({ length: 5001 }, (_, i) => `many-${i}`)
  await client.query(`INSERT INTO shortener_links (slug, url, mode, status) SELECT unnest($1::text[]), 'https://example.com/', 'redirect', 302`, [slugs])
  const counts = new Map(slugs.map((slug) => [slug, 1]))
  await store.addVisits(counts, 1)
  await store.addVisits(counts, 1)
  const { rows } = await client.query(`SELECT sum(visits)::int AS total FROM shortener_links WHERE slug LIKE 'many-%'`)
  assert.is(rows[0].total, 5001)
})

test.run()
