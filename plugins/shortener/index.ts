// The shortener plugin: links stored through the db plugin, served from an LRU of the collections plugin.
import type { Context } from 'hono'
import { definePlugin, option, Phase, requireBearer } from '@armature/core'
import { isUnavailable, watchAvailability } from '@armature/plugin-db'
import { LinkStore, MIGRATIONS } from './src/link-store.ts'
import { followRoutes, managementRoutes } from './src/routes.ts'
import { Shortener, type CachedLink } from './src/shortener.ts'
import { VisitCounter } from './src/visit-counter.ts'

export default definePlugin({
  name: 'shortener',
  version: '0.1.0',
  description: 'Short links: redirect or proxy to the original URL, with expiry, visit limits and batched visit counts',
  uses: ['db', 'collections', 'proxy'],
  config: {
    /** Bearer key for creating, reading and deleting links; empty disables those routes. */
    apiKey: '',
    /** Where short URLs point, e.g. `https://sho.rt`; empty: the origin a create request came to. */
    publicUrl: '',
    followBase: option.string('/s', { pattern: /^\/[a-z0-9_-]+$/i }),
    slugLength: option.int(7, { min: 4, max: 64 }),
    cacheSize: option.int(10_000, { min: 1 }),
    cacheTtlMs: option.duration(60_000, { min: 1 }),
    flushIntervalMs: option.duration(1000, { min: 1 }),
    proxyTimeoutMs: option.duration(10_000, { min: 1 }),
    maxBodyBytes: option.int(8192, { min: 1 }),
  },
  async setup(ctx) {
    const { config } = ctx
    const { slugLength, cacheSize } = config

    const db = ctx.use('db')
    const applied = await db.migrate('shortener', MIGRATIONS)
    if (applied.length > 0) ctx.log.info({ applied, kind: db.kind }, 'migrations applied')

    const { LinkedHashMap } = ctx.use('collections')
    const cache = new LinkedHashMap<string, CachedLink>(null, { accessOrder: true, removeEldestEntry: (_, map) => map.size() > cacheSize })
    // An outage answers 503 and turns /readyz to 503 until a query (or the watch's probe) succeeds.
    const { database, watch } = watchAvailability(db, { onChange: (status) => ctx.health.report('database', status) })
    ctx.signal.addEventListener('abort', () => watch.stop())
    const store = new LinkStore(database)
    await store.pruneWriters()
    const counter = new VisitCounter(store)
    const shortener = new Shortener({ store, counter, cache, slugLength, cacheTtlMs: config.cacheTtlMs })

    const visits = ctx.metrics.counter('visits_flushed_total', 'Visits written to the database')
    const flush = async () => {
      try {
        await counter.flush()
      } catch (error) {
        // An outage was reported once as the database's health; a line per interval would add nothing.
        if (!isUnavailable(error)) ctx.log.warn({ err: error }, 'visit flush failed; the counts are kept for the next one')
      }
    }
    // flush catches its own errors.
    const timer = setInterval(() => void flush(), config.flushIntervalMs)
    timer.unref()
    counter.onFlushed = (n) => visits.inc(n)

    const { forward } = ctx.use('proxy')
    const options = {
      shortener,
      apiKey: config.apiKey,
      requireBearer,
      publicUrl: config.publicUrl,
      followBase: config.followBase,
      readJson: (c: Context) => ctx.http.readJson(c, { maxBytes: config.maxBodyBytes, limitName: 'SHORTENER_MAX_BODY_BYTES' }),
      proxyTimeoutMs: config.proxyTimeoutMs,
      forward,
    }
    ctx.http.route(managementRoutes(options))
    ctx.http.route(followRoutes(options), { base: config.followBase })

    // Ingress has stopped by Flush, so this last flush holds every counted visit; the db closes at Egress, after it.
    ctx.onStop(
      'flush visits',
      async () => {
        clearInterval(timer)
        await counter.flush()
      },
      { phase: Phase.Flush, timeoutMs: 5000 },
    )
    ctx.provide(shortener)
  },
})
