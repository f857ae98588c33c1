// The db plugin: one PostgreSQL client for every plugin, reached with `ctx.use('db')`.
import { definePlugin, option, Phase, redactUrl } from '@armature/core'
import { openDatabase } from './src/open.ts'
import { PG_MEMORY_SIZE, PGLITE_DEFAULTS } from './src/pglite-settings.ts'
import type { Database } from './src/database.ts'
import { INSERT_BATCH_PARAMS } from './src/pglite.ts'

export type { Database }
export type { ListenOptions, NotificationHandler, Queryable, QueryResult, Unlisten } from './src/database.ts'

declare module '@armature/core' {
  interface PluginApis {
    db: Database
  }
}

const memory = (value: string) => option.string(value, { nonEmpty: true, pattern: PG_MEMORY_SIZE })

export default definePlugin({
  name: 'db',
  version: '0.1.0',
  description: 'One PostgreSQL client for every plugin: a pg pool with DATABASE_URL, embedded PGlite otherwise, with per-plugin migrations',
  config: {
    /** Empty: DATABASE_URL, and when that is empty too, embedded PGlite in the plugin's data folder. */
    url: option.url('', { protocols: ['postgres:', 'postgresql:'] }),
    poolSize: option.int(10, { min: 1, max: 1000 }),
    connectTimeoutMs: option.duration(5000, { min: 1 }),
    /** PGlite only: PostgreSQL's shared_buffers (a PostgreSQL server's default is 128MB). */
    pgliteSharedBuffers: memory(PGLITE_DEFAULTS.sharedBuffers),
    /** PGlite only: work_mem, per sort or hash step of a query. */
    pgliteWorkMem: memory(PGLITE_DEFAULTS.workMem),
    /** PGlite only: maintenance_work_mem, per index build or VACUUM. */
    pgliteMaintenanceWorkMem: memory(PGLITE_DEFAULTS.maintenanceWorkMem),
    /** PGlite only: parameters per INSERT statement when copyFrom writes rows in batches. */
    pgliteInsertBatchParams: option.int(INSERT_BATCH_PARAMS, { min: 1, max: 65535 }),
  },
  async setup(ctx) {
    const { config } = ctx
    const url = config.url || ctx.env.DATABASE_URL || ''
    const dataDir = url ? '' : ctx.kernel.dataDir
    const pglite = { sharedBuffers: config.pgliteSharedBuffers, workMem: config.pgliteWorkMem, maintenanceWorkMem: config.pgliteMaintenanceWorkMem }
    // One pool (or embedded instance) for every generation: a reload does not reopen it, and PGlite
    // must never be opened twice on one folder. Closed at Egress, after the users have flushed.
    const opened = await ctx.keep(
      'database',
      async () => {
        const started = Date.now()
        const database = await openDatabase({
          url,
          shownUrl: redactUrl(url, '(unparsable DATABASE_URL)'),
          dataDir,
          poolSize: config.poolSize,
          connectTimeoutMs: config.connectTimeoutMs,
          pglite,
          pgliteInsertBatchParams: config.pgliteInsertBatchParams,
          signal: ctx.signal,
          onListenerError: (error, channel) => ctx.log.warn({ err: error, channel }, 'a database listener failed'),
        })
        const initdb = database.createdCluster ? { initdbMs: Math.round(database.createdCluster.ms) } : {}
        ctx.log.info({ kind: database.database.kind, where: url ? redactUrl(url) : dataDir, ...initdb, ms: Date.now() - started }, 'database ready')
        return database
      },
      (database) => database.close(),
      { phase: Phase.Egress, timeoutMs: 5000 },
    )
    ctx.provide(opened.database)
  },
})
