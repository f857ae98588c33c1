// The cache plugin: config, routes, stop hooks. Everything else lives in src/.
import { checkBearer, definePlugin, option, Phase } from '@armature/core'
import { Cache } from './src/cache.ts'
import { createApp } from './src/controllers/app.ts'
import { FSYNC_POLICIES } from './src/fsync-policy.ts'

export default definePlugin({
  name: 'cache',
  version: '0.1.0',
  description: 'In-memory entity store with HTTP CRUD, a CLI viewer, dump/restore via Redis and a file',
  config: {
    /** Empty: REDIS_URL, and when that is empty too, the file alone. */
    redisUrl: '',
    redisPrefix: 'armature:cache',
    fsync: option.enum(FSYNC_POLICIES, 'everysec'),
    /** 0 turns periodic snapshots off. */
    snapshotEveryMs: option.duration(60_000),
    /** 0 turns the periodic Redis dump off (the final dump still runs). */
    dumpEveryMs: option.duration(30_000),
    /** The cache's own body limit, in place of HTTP_MAX_BODY_BYTES (documents may be larger than other requests). */
    maxBodyBytes: option.int(1_048_576, { min: 1 }),
    /** Bearer key for writes, deletes and GET /cache/_dump; empty leaves them open (the embedded default). */
    apiKey: '',
    /** Keep each read document's GET body until it is replaced or deleted (about its JSON size again in memory). */
    cacheDocumentBodies: true,
  },
  async setup(ctx) {
    const { config } = ctx
    const fsync = config.fsync
    const redisUrl = config.redisUrl || ctx.env.REDIS_URL || ''
    const dataDir = ctx.kernel.dataDir

    // One open store for every generation: a reload must not open the folder's log a second time.
    // It closes with the last generation, at Flush (ingress has stopped, so the final dump sees
    // every acknowledged write), then Redis, then the file log.
    const cache = await ctx.keep(
      'store',
      () => Cache.open({ dataDir, fsync, redisUrl, redisPrefix: config.redisPrefix, snapshotEveryMs: config.snapshotEveryMs, dumpEveryMs: config.dumpEveryMs, log: ctx.log }),
      async (store) => {
        const complete = await store.finalDump()
        if (store.redisConfigured && !complete) ctx.log.warn({ seq: store.store.seq }, 'final Redis dump incomplete; the file holds every write')
        await store.closeRedis()
        await store.closeFile()
      },
      { phase: Phase.Flush, timeoutMs: 8000 },
    )

    const mutations = ctx.metrics.counter('mutations_total', 'Acknowledged mutations by kind', ['kind'])
    const documents = ctx.metrics.gauge('documents', 'Documents held in memory')
    const { apiKey, maxBodyBytes } = config
    if (!apiKey) ctx.log.warn('CACHE_API_KEY is not set: writes, deletes and GET /cache/_dump are open to anyone who reaches this port')
    const app = createApp(cache, {
      readJson: (c) => ctx.http.readJson(c, { maxBytes: maxBodyBytes, limitName: 'CACHE_MAX_BODY_BYTES' }),
      ...(apiKey ? { authorize: (authorization: string | undefined) => checkBearer(apiKey, authorization) } : {}),
      cacheDocumentBodies: config.cacheDocumentBodies,
      onMutation: (kind) => {
        mutations.inc({ kind })
        documents.set(cache.store.size)
      },
      onError: (err) => ctx.log.error({ err }, 'request failed'),
    })
    ctx.http.route(app)

    ctx.provide(cache)
  },
})
