// The analytics plugin: ingest committed before the answer, leased processing, rollups, a live page.
import { definePlugin, option, Phase, requireBearer } from '@armature/core'
import { isUnavailable, watchAvailability } from '@armature/plugin-db'
import { SpanKind, SpanStatusCode } from '@opentelemetry/api'
import { DEFAULT_HEADER_ALLOW_LIST } from './src/ingest-request.ts'
import { Ingest } from './src/ingest.ts'
import { analyticsRoutes } from './src/routes.ts'
import { MIGRATIONS } from './src/schema.ts'
import { spanContextOf } from './src/trace-context.ts'

export default definePlugin({
  name: 'analytics',
  version: '0.1.0',
  description: 'Analytics ingest into PostgreSQL answered after commit, processed by leased workers that never leave a row stuck',
  uses: ['db'],
  config: {
    /** Largest JSON body accepted by POST /analytics (413 past it). */
    maxBodyBytes: option.int(16 * 1024, { min: 2, max: 16 * 1024 * 1024 }),
    /** Request headers kept in the stored row's `data.headers` (the stored key is spelled as here). */
    headerAllowList: [...DEFAULT_HEADER_ALLOW_LIST] as string[],
    /** A batch is written once it holds this many rows... */
    batchMaxRows: option.int(500, { min: 1, max: 10_000 }),
    /** ...or this long after its first row arrived. */
    batchMaxDelayMs: option.duration(5, { min: 0, max: 10_000 }),
    /** Batch writes in flight at once. */
    batchConcurrency: option.int(2, { min: 1, max: 64 }),
    /** Requests waiting for a commit, queued and in flight; past it POST answers 503 at once. */
    maxWaiting: option.int(20_000, { min: 1, max: 1_000_000 }),
    /** How long a request waits for its row's commit before answering 503. */
    commitTimeoutMs: option.duration(2000, { min: 1, max: 60_000 }),
  },
  async setup(ctx) {
    const { config } = ctx
    const db = ctx.use('db')
    const applied = await db.migrate('analytics', MIGRATIONS)
    if (applied.length > 0) ctx.log.info({ applied, kind: db.kind }, 'migrations applied')

    // An outage answers 503 and turns /readyz to 503 until a query (or the watch's probe) succeeds.
    const probeIntervalMs = 5000
    const { database, watch } = watchAvailability(db, { onChange: (status) => ctx.health.report('database', status), probeIntervalMs })
    ctx.signal.addEventListener('abort', () => watch.stop())

    const rowsIngested = ctx.metrics.counter('ingested_rows_total', 'Raw rows committed by ingest')
    const ingestFailures = ctx.metrics.counter('ingest_failed_rows_total', 'Rows of failed batch writes, by reason', ['reason'])
    const batchRows = ctx.metrics.histogram('batch_rows', 'Rows per ingest batch', [], [1, 5, 10, 25, 50, 100, 250, 500, 1000, 5000])
    const commitSeconds = ctx.metrics.histogram('commit_seconds', 'Ingest batch write and commit latency', [], [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5])

    const ingest = new Ingest({
      db: database,
      headerAllowList: config.headerAllowList,
      batchMaxRows: config.batchMaxRows,
      batchMaxDelayMs: config.batchMaxDelayMs,
      batchConcurrency: config.batchConcurrency,
      maxWaiting: config.maxWaiting,
      commitTimeoutMs: config.commitTimeoutMs,
      isOutage: isUnavailable,
      outageRetryAfterSeconds: Math.ceil(probeIntervalMs / 1000),
      available: () => watch.available,
      // One span per batch, linked to the request span of every row in it.
      around: (rows, write) => {
        const links = rows.flatMap((row) => {
          const context = spanContextOf(row.traceparent)
          return context ? [{ context }] : []
        })
        return ctx.tracer.startActiveSpan(
          'analytics batch commit',
          { kind: SpanKind.CLIENT, links: links.slice(0, 128), attributes: { 'analytics.batch.rows': rows.length } },
          async (span) => {
            try {
              await write()
            } catch (error) {
              span.recordException(error as Error)
              span.setStatus({ code: SpanStatusCode.ERROR })
              throw error
            } finally {
              span.end()
            }
          },
        )
      },
      onBatch: (report) => {
        batchRows.observe(report.rows)
        commitSeconds.observe(report.ms / 1000)
        if (report.error === undefined) {
          rowsIngested.inc(report.rows)
          ctx.log.debug({ rows: report.rows, ms: report.ms, late: report.late }, 'batch committed')
        } else {
          const outage = isUnavailable(report.error)
          ingestFailures.inc({ reason: outage ? 'outage' : 'error' }, report.rows)
          // An outage is reported once through health; other failures each get a line.
          if (!outage) ctx.log.warn({ err: report.error, rows: report.rows, ms: report.ms }, 'batch write failed; its rows are tried one by one')
          else ctx.log.debug({ rows: report.rows, ms: report.ms }, 'batch write failed: database unavailable')
        }
        if (report.late > 0) ctx.log.warn({ rows: report.late, ms: report.ms }, 'rows committed after their requests were answered 503 (commit timeout)')
      },
    })

    ctx.http.route(
      analyticsRoutes({
        ingest,
        readJson: (c) => ctx.http.readJson(c, { maxBytes: config.maxBodyBytes, limitName: 'ANALYTICS_MAX_BODY_BYTES' }),
        requireAdmin: requireBearer(ctx.kernel.adminToken, { disabled: 'analytics admin is disabled: set ADMIN_TOKEN to enable it' }),
      }),
    )

    // Ingress has stopped by Flush: what is queued is committed and answered; the db closes at Egress.
    ctx.onStop('commit queued rows', () => ingest.close(), { phase: Phase.Flush, timeoutMs: Math.max(5000, config.commitTimeoutMs + 1000) })
  },
})
