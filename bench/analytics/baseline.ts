// The service a user would write first: fastify and a pg pool of 20, one INSERT per request,
// answered after it commits (as the kernel's ingest is), the seed's table shape.
import Fastify from 'fastify'
import pg from 'pg'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const ALLOWED = ['user-agent', 'x-tantum-useragent', 'content-type', 'accept-language', 'x-forwarded-for']
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.POOL_SIZE ?? 20) })
await pool.query(
  `CREATE TABLE IF NOT EXISTS baseline_raw_analytics (id bigserial PRIMARY KEY, time timestamptz(0) NOT NULL, user_id uuid NOT NULL, data jsonb NOT NULL, processed boolean NOT NULL DEFAULT false)`,
)

const app = Fastify({ bodyLimit: 16 * 1024 })
app.get('/health', async () => ({ ok: true }))
app.post('/analytics', async (request, reply) => {
  const user = request.headers['x-tantum-authorization']
  if (typeof user !== 'string' || !UUID.test(user)) return reply.code(400).send({ error: 'X-Tantum-Authorization must be a UUID' })
  if (typeof request.body !== 'object' || request.body === null || Array.isArray(request.body)) return reply.code(400).send({ error: 'body must be a JSON object' })
  const headers: Record<string, unknown> = {}
  for (const name of ALLOWED) if (request.headers[name] !== undefined) headers[name] = request.headers[name]
  await pool.query('INSERT INTO baseline_raw_analytics (time, user_id, data) VALUES (now(), $1, $2)', [user, { headers, body: request.body }])
  return reply.code(202).send({ status: 'OK' })
})
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1', backlog: Number(process.env.BACKLOG ?? 511) })
