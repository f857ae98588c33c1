// The orders plugin: orders consumed from the queue port, stored in PostgreSQL through the db
// plugin in one idempotent transaction each, served from a bounded cache warmed at start.
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Context } from 'hono'
import { definePlugin, option, Phase } from '@armature/core'
import { isUnavailable, watchAvailability } from '@armature/plugin-db'
import { MIGRATIONS } from './src/migrations.ts'
import { EVICTION, OrderCache, toCached } from './src/order-cache.ts'
import { OrderConsumer } from './src/order-consumer.ts'
import { OrderReader } from './src/order-reader.ts'
import { OrderStore } from './src/order-store.ts'
import { WriteBatcher } from './src/write-batcher.ts'
import { LiveFeed } from './src/live-feed.ts'
import { StoredNotices } from './src/stored-notices.ts'
import { ORDER_UID } from './src/schema.ts'
import { pageRoutes } from './src/page-routes.ts'
import { apiRoutes } from './src/routes.ts'
import { STRICTNESS } from './src/validation.ts'

/** The NOTIFY channel of "stored" events, one per database (the tables are too). */
const NOTICE_CHANNEL = 'armature_orders_stored'

export default definePlugin({
  name: 'orders',
  version: '0.1.0',
  description: 'Orders from the queue stored in PostgreSQL idempotently, a bounded cache warmed at start, a JSON API under /api and a live page at /orders/',
  uses: ['db'],
  config: {
    /** Queue consumed (as a group: instances share it); invalid and conflicting orders go to `<queue>.dead`. */
    queue: option.string('orders', { pattern: /^[A-Za-z0-9][A-Za-z0-9._:-]{0,200}$/ }),
    /** False: serve the API and the page only (a read replica), consume nothing. */
    consume: true,
    /** Messages handled at once, each held unacknowledged until its transaction commits. */
    prefetch: option.int(1024, { min: 1, max: 65_535 }),
    /** Most orders written in one transaction: orders arriving while a write runs are written together by the next. */
    writeBatch: option.int(250, { min: 1, max: 1000 }),
    /** Transactions writing orders at once (each holds one pooled connection). */
    concurrentWrites: option.int(2, { min: 1, max: 100 }),
    /** Retries of a message whose store failed for a reason other than an outage (the port's growing delay), then the dead letter. */
    maxRetries: option.int(5, { min: 0, max: 100 }),
    /** full: types, formats and arithmetic; formats: no arithmetic; types: required fields and types only. */
    strictness: option.enum(STRICTNESS, 'full'),
    /** Orders the cache holds at most (0: no cache). */
    cacheSize: option.int(10_000, { min: 0, max: 10_000_000 }),
    /** Bytes of order JSON the cache holds at most. */
    cacheMaxBytes: option.int(64 * 1024 * 1024, { min: 0 }),
    /** creation: the oldest by date_created goes first (the newest stay); lru: the least recently read goes first. */
    cacheEviction: option.enum(EVICTION, 'creation'),
    /** Orders per page of GET /api/orders when no limit is given. */
    pageSize: option.int(20, { min: 1, max: 1000 }),
    /** Largest JSON body GET /api/getOrder reads. */
    maxBodyBytes: option.int(4096, { min: 16, max: 1024 * 1024 }),
    /** Longest wait between two store attempts of a message while the database is unreachable. */
    maxOutageDelayMs: option.duration(5000, { min: 10 }),
  },
  async setup(ctx) {
    const { config } = ctx
    const db = ctx.use('db')
    const applied = await db.migrate('orders', MIGRATIONS)
    if (applied.length > 0) ctx.log.info({ applied, kind: db.kind }, 'migrations applied')

    const report = (status: { ok: boolean; reason?: string }) => ctx.health.report('database', status)
    // Reads answer 503 during an outage; the consumer keeps its messages waiting instead (below).
    const { database: watched, watch } = watchAvailability(db, { onChange: report })
    ctx.signal.addEventListener('abort', () => watch.stop())
    const readStore = new OrderStore(watched)
    const writeStore = new OrderStore(db)

    const cache = new OrderCache({ maxEntries: config.cacheSize, maxBytes: config.cacheMaxBytes, eviction: config.cacheEviction })
    const reader = new OrderReader(cache, readStore)
    const feed = new LiveFeed()
    // Orders stored by other instances on this database reach this instance's page (LISTEN/NOTIFY).
    const notices = new StoredNotices({
      db,
      channel: NOTICE_CHANNEL,
      instance: randomUUID(),
      onRemote: (uids) => {
        // Read (one query) only when a page is open; what is read is cached too, as the newest orders.
        if (feed.size === 0) return
        readStore.getMany(uids.filter((uid) => ORDER_UID.test(uid))).then(
          (orders) => {
            for (const order of orders) {
              cache.set(toCached(order))
              feed.stored(order.json)
            }
          },
          (error) => ctx.log.warn({ err: error, orders: uids.length }, 'orders stored by another instance could not be read for the page'),
        )
      },
      onError: (error) => ctx.log.warn({ err: error }, "a stored notice could not be sent: other instances' pages miss these orders"),
    })
    try {
      await notices.start()
    } catch (error) {
      ctx.log.warn({ err: error }, 'LISTEN failed: the page shows the orders this instance stores only')
    }
    // After Ingress (the consumer stopped, its last notices sent) and before the database closes at Egress.
    ctx.onStop('stop stored notices', () => notices.stop(), { phase: Phase.Work })

    const m = ctx.metrics
    const outcomes = m.counter('messages_total', 'Messages consumed, by outcome (stored, duplicate, invalid, conflict)', ['outcome'])
    // Bound once: a label object per message would be hashed by the metrics client each time.
    const byOutcome = { stored: outcomes.labels('stored'), duplicate: outcomes.labels('duplicate'), invalid: outcomes.labels('invalid'), conflict: outcomes.labels('conflict') }
    const lag = m.histogram('consume_lag_seconds', 'From publish (x-orders-published-at) to commit', [], [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120])
    const cacheEntries = m.gauge('cache_entries', 'Orders in the cache')
    const cacheBytes = m.gauge('cache_bytes', 'Bytes of order JSON in the cache')
    const cacheReads = m.counter('cache_reads_total', 'Order reads, by result (hit, miss)', ['result'])
    const hits = cacheReads.labels('hit')
    const misses = cacheReads.labels('miss')
    const counted = { hits: 0, misses: 0 }
    const syncCacheMetrics = () => {
      cacheEntries.set(cache.size)
      cacheBytes.set(cache.bytes)
      // Counted as plain numbers on the request path and handed to prom-client here.
      hits.inc(reader.hits - counted.hits)
      misses.inc(reader.misses - counted.misses)
      counted.hits = reader.hits
      counted.misses = reader.misses
    }
    const metricsTimer = setInterval(syncCacheMetrics, 1000)
    metricsTimer.unref()
    ctx.signal.addEventListener('abort', () => clearInterval(metricsTimer))

    // Warm-up: the newest orders, one query, before the routes exist and before anything is consumed.
    const started = Date.now()
    for (const order of (await readStore.newest(config.cacheSize)).reverse()) cache.set(order)
    syncCacheMetrics()
    ctx.log.info({ orders: cache.size, bytes: cache.bytes, ms: Date.now() - started }, 'order cache warmed')

    ctx.http.route(
      apiRoutes({
        reader,
        store: readStore,
        defaultPageSize: config.pageSize,
        readJson: (c: Context) => ctx.http.readJson(c, { maxBytes: config.maxBodyBytes, limitName: 'ORDERS_MAX_BODY_BYTES' }),
      }),
      { base: '/api' },
    )
    const pageDir = join(ctx.dir, 'page')
    ctx.http.route(pageRoutes((name) => readFileSync(join(pageDir, name), 'utf8')))
    ctx.ws.route('/live', (socket) => {
      const unsubscribe = feed.subscribe((text) => void ctx.ws.send(socket, text).catch(() => socket.terminate()))
      socket.on('close', unsubscribe)
    })

    if (!config.consume) return
    const consumer = new OrderConsumer({
      queue: config.queue,
      store: new WriteBatcher(writeStore, { maxBatch: config.writeBatch, maxConcurrentWrites: config.concurrentWrites, isUnavailable }),
      strictness: config.strictness,
      publish: (queue, body, options) => ctx.queue.publish(queue, body, options),
      isUnavailable,
      signal: ctx.signal,
      maxOutageDelayMs: config.maxOutageDelayMs,
      onDatabase: report,
      onOutcome: (outcome, detail) => {
        byOutcome[outcome].inc()
        if (detail.lagMs !== undefined) lag.observe(detail.lagMs / 1000)
        if (detail.order) {
          cache.set(detail.order)
          feed.stored(detail.order.json)
          notices.announce(detail.order.uid)
        }
        if (outcome === 'invalid') ctx.log.info({ uid: detail.uid, problems: detail.problems }, 'invalid order dead-lettered')
        if (outcome === 'conflict') ctx.log.warn({ uid: detail.uid }, 'order uid already stored with a different payload; dead-lettered, the stored one kept')
      },
    })
    await ctx.queue.consume(config.queue, consumer.handle, { prefetch: config.prefetch, maxRetries: config.maxRetries, deadLetter: consumer.deadLetterQueue })
    ctx.log.info({ queue: config.queue, backend: ctx.queue.backend, prefetch: config.prefetch }, 'consuming orders')
  },
})
