// The same routes on bare @hono/node-server: the baseline the kernel is measured against.
// POST /echo reads its JSON with Hono's own c.req.json().
import { Hono } from 'hono'
import { serve } from '@hono/node-server'

let sequence = 0
const app = new Hono()
  .get('/hello', (c) => c.text('hello from generation 1\n'))
  .post('/echo', async (c) => {
    const body = await c.req.json()
    return c.json({ message: body.message, generation: 1, sequence: ++sequence })
  })
serve({ fetch: app.fetch, port: Number(process.env.PORT), hostname: '127.0.0.1' })
