// The same route on bare @hono/node-server: the baseline the kernel is measured against.
import { Hono } from 'hono'
import { serve } from '@hono/node-server'

const app = new Hono().get('/hello', (c) => c.text('hello from generation 1\n'))
serve({ fetch: app.fetch, port: Number(process.env.PORT), hostname: '127.0.0.1' })
