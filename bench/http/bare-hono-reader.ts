// POST /echo on bare @hono/node-server, its JSON read with the kernel's readJson instead of
// c.req.json(): beside bare-hono.mjs, this isolates what the reader costs.
import { Hono } from 'hono'
import { serve } from '@hono/node-server'
import { readJson } from '@armature/core'

let sequence = 0
const app = new Hono()
  .get('/hello', (c) => c.text('hello from generation 1\n'))
  .post('/echo', async (c) => {
    const body = (await readJson(c)) as { message?: unknown }
    return c.json({ message: body.message, generation: 1, sequence: ++sequence })
  })
serve({ fetch: app.fetch, port: Number(process.env.PORT), hostname: '127.0.0.1' })
