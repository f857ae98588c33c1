// Routes about the store as a whole, used by the CLI: collections, stats, a full dump.
// They start with `_`, which no collection name can, so they never shadow one.
import { Hono } from 'hono'
import type { Cache } from '../cache.ts'
import { collectionsView, statsView } from '../views/json.ts'
import { encodeImage } from '../image.ts'

export function adminRoutes(cache: Pick<Cache, 'store' | 'stats'>): Hono {
  const app = new Hono()
  app.get('/', (c) => c.json(collectionsView(cache.store.collections())))
  app.get('/_stats', (c) => c.json(statsView(cache.stats())))
  app.get('/_dump', (c) => {
    const image = cache.store.image()
    c.header('ETag', `"${image.seq}"`)
    return c.body(encodeImage(image), 200, { 'content-type': 'application/json' })
  })
  return app
}
