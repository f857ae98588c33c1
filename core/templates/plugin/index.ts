// The adapter: config, routes, stop hooks. The logic lives in src/.
import { definePlugin } from '@armature/core'
import { Hono } from 'hono'
import { HitCounter } from './src/hit-counter.ts'

export default definePlugin({
  name: '{{name}}',
  version: '0.1.0',
  description: 'The {{name}} plugin',
  // Typed defaults; the environment overrides them by name, e.g. {{NAME}}_GREETING=hi.
  config: { greeting: 'hello from {{name}}' },
  setup(ctx) {
    const hits = new HitCounter()
    const app = new Hono().get('/', (c) => c.json({ message: ctx.config.greeting, generation: ctx.generation, hits: hits.hit() }))
    ctx.http.route(app) // served at /{{name}}
  },
})
