// The db plugin: one PostgreSQL client for every plugin, reached with `ctx.use('db')`.
import { definePlugin, option, Phase } from '@armature/core'
import { openDatabase } from './src/open.ts'
import { redact } from './src/postgres.ts'
import type { Database } from './src/database.ts'

export type { Database }

declare module '@armature/core' {
  interface PluginApis {
    db: Database
  }
}

export default definePlugin({
  name: 'db',
  version: '0.1.0',
  description: 'One PostgreSQL client for every plugin: a pg pool with DATABASE_URL, embedded PGlite otherwise, with per-plugin migrations',
  config: {
    /** Empty: DATABASE_URL, and when that is empty too, embedded PGlite in the plugin's data folder. */
    url: option.url('', { protocols: ['postgres:', 'postgresql:'] }),
    poolSize: option.int(10, { min: 1, max: 1000 }),
    connectTimeoutMs: option.duration(5000, { min: 1 }),
  },
  async setup(ctx) {
    const { config } = ctx
    const url = config.url || ctx.env.DATABASE_URL || ''
    const dataDir = url ? '' : ctx.kernel.dataDir
    const started = Date.now()
    const opened = await openDatabase({ url, dataDir, poolSize: config.poolSize, connectTimeoutMs: config.connectTimeoutMs })
    ctx.log.info(
      { kind: opened.database.kind, where: url ? redact(url) : dataDir, reused: opened.reused, ms: Date.now() - started },
      'database ready',
    )
    // Egress: by then every plugin that uses the database has flushed (Flush phase).
    ctx.onStop('close database', () => opened.close(), { phase: Phase.Egress, timeoutMs: 5000 })
    ctx.provide(opened.database)
  },
})
