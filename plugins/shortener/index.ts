// The shortener plugin: links stored through the db plugin, served from an LRU of the collections plugin.
import { definePlugin, Phase } from '@armature/core'
import { LinkStore, MIGRATIONS, type SqlClient } from './src/link-store.ts'
import { followRoutes, managementRoutes, type Forward } from './src/routes.ts'
import { Shortener, type CachedLink, type LruMap } from './src/shortener.ts'
import { VisitCounter } from './src/visit-counter.ts'

interface Database extends SqlClient {
  migrate(plugin: string, migrations: ReadonlyArray<{ id: string; sql: string }>): Promise<string[]>
  readonly kind: string
}

interface Collections {
  LinkedHashMap: new <K, V>(
    entries: null,
    options: { accessOrder: boolean; removeEldestEntry: (eldest: unknown, map: { size(): number }) => boolean },
  ) => LruMap<K, V>
}

interface Proxy {
  forward: Forward
}

function positiveInteger(value: number, key: string): number {
  if (!Number.isInteger(value) || value < 1) throw new Error(`shortener.${key} must be a positive integer, got ${value}`)
  return value
}

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
    followBase: '/s',
    slugLength: 7,
    cacheSize: 10_000,
    cacheTtlMs: 60_000,
    flushIntervalMs: 1000,
    proxyTimeoutMs: 10_000,
    maxBodyBytes: 8192,
  },
  async setup(ctx) {
    const { config } = ctx
    const slugLength = positiveInteger(config.slugLength, 'slugLength')
    const cacheSize = positiveInteger(config.cacheSize, 'cacheSize')
    if (!/^\/[a-z0-9_-]+$/i.test(config.followBase)) throw new Error(`shortener.followBase must look like /s, got ${JSON.stringify(config.followBase)}`)

    const db = ctx.use<Database>('db')
    const applied = await db.migrate('shortener', MIGRATIONS)
    if (applied.length > 0) ctx.log.info({ applied, kind: db.kind }, 'migrations applied')

    const { LinkedHashMap } = ctx.use<Collections>('collections')
    const cache = new LinkedHashMap<string, CachedLink>(null, { accessOrder: true, removeEldestEntry: (_, map) => map.size() > cacheSize })
    const store = new LinkStore(db)
    const counter = new VisitCounter(store)
    const shortener = new Shortener({ store, counter, cache, slugLength, cacheTtlMs: positiveInteger(config.cacheTtlMs, 'cacheTtlMs') })

    const visits = ctx.metrics.counter('visits_flushed_total', 'Visits written to the database')
    const flush = async () => {
      try {
        await counter.flush()
      } catch (error) {
        ctx.log.warn({ err: error }, 'visit flush failed; the counts are kept for the next one')
      }
    }
    const timer = setInterval(flush, positiveInteger(config.flushIntervalMs, 'flushIntervalMs'))
    timer.unref()
    counter.onFlushed = (n) => visits.inc(n)

    const { forward } = ctx.use<Proxy>('proxy')
    const options = {
      shortener,
      apiKey: config.apiKey,
      publicUrl: config.publicUrl,
      followBase: config.followBase,
      maxBodyBytes: positiveInteger(config.maxBodyBytes, 'maxBodyBytes'),
      proxyTimeoutMs: positiveInteger(config.proxyTimeoutMs, 'proxyTimeoutMs'),
      forward,
      onError: (error: unknown) => ctx.log.error({ err: error }, 'request failed'),
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
