import { definePlugin } from '@armature/core'
import { Hono } from 'hono'
import { greeting } from './src/greeting.ts'

export default definePlugin({
  name: 'hello',
  version: '0.1.0',
  description: 'The smallest plugin: GET /hello answers text naming its generation',
  config: { greeting: 'hello' },
  setup(ctx) {
    const app = new Hono().get('/', (c) => c.text(greeting(ctx.config.greeting, ctx.generation)))
    ctx.http.route(app)
  },
})
