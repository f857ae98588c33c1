// The producer's own plugin, loaded only by `armature orders produce` into a kernel of its own:
// it publishes the batches the command sends it through ctx.queue, answering after the confirms,
// so the orders take the queue port whatever backend serves it (RabbitMQ, the built-in broker).
import { definePlugin, HttpError, option } from '@armature/core'
import { Hono } from 'hono'
import { PUBLISHED_AT_HEADER } from '../src/order-consumer.ts'

export default definePlugin({
  name: 'orders-producer',
  version: '0.1.0',
  description: 'Publishes the orders `armature orders produce` generates, through the queue port with confirms',
  config: {
    queue: option.string('orders', { pattern: /^[A-Za-z0-9][A-Za-z0-9._:-]{0,200}$/ }),
    maxBatchBytes: option.int(32 * 1024 * 1024, { min: 1024 }),
  },
  setup(ctx) {
    const { queue, maxBatchBytes } = ctx.config
    const app = new Hono().post('/publish', async (c) => {
      const bodies = await ctx.http.readJson(c, { maxBytes: maxBatchBytes, limitName: 'ORDERS_PRODUCER_MAX_BATCH_BYTES' })
      if (!Array.isArray(bodies)) throw new HttpError(400, 'body must be a JSON array of orders')
      const headers = { [PUBLISHED_AT_HEADER]: Date.now() }
      await Promise.all(bodies.map((body: unknown) => ctx.queue.publish(queue, body as object, { headers })))
      return c.json({ confirmed: bodies.length, queue, backend: ctx.queue.backend })
    })
    ctx.http.route(app)
  },
})
