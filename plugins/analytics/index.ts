// The analytics plugin: ingest committed before the answer, leased processing, rollups, a live page.
import { readFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { definePlugin, option, Phase, requireBearer } from '@armature/core'
import { isUnavailable, watchAvailability } from '@armature/plugin-db'
import { isSpanContextValid, SpanKind, SpanStatusCode, type Span, type SpanContext } from '@opentelemetry/api'
import type { AnalyticsApi } from './src/api.ts'
import { Dispatcher } from './src/dispatcher.ts'
import { Handoff, type Reservation } from './src/handoff.ts'
import { DEFAULT_HEADER_ALLOW_LIST } from './src/ingest-request.ts'
import { Ingest } from './src/ingest.ts'
import { LeaseStore, type ClaimedRow } from './src/leases.ts'
import { ProcessorChain } from './src/processor.ts'
import { backlog } from './src/queries.ts'
import { WAKE_CHANNEL } from './src/raw-writer.ts'
import { analyticsRoutes, PAGE_TYPES } from './src/routes.ts'
import { RawRetention } from './src/retention.ts'
import { MIGRATIONS } from './src/schema.ts'
import { parentContextOf, spanContextOf } from './src/trace-context.ts'

export type { AnalyticsApi }
export type { Processor, ProcessedEvent, RawEvent } from './src/processor.ts'

declare module '@armature/core' {
  interface PluginApis {
    analytics: AnalyticsApi
  }
}

/** Ends `span` with the outcome of `run`. */
async function ending<T>(span: Span, run: () => Promise<T>): Promise<T> {
  try {
    return await run()
  } catch (error) {
    span.recordException(error as Error)
    span.setStatus({ code: SpanStatusCode.ERROR })
    throw error
  } finally {
    span.end()
  }
}

/** Span links to the ingest spans of `traceparents` (at most 128: a span with thousands of links helps no reader). */
function linksTo(traceparents: Array<string | null>): Array<{ context: SpanContext }> {
  const links: Array<{ context: SpanContext }> = []
  for (const traceparent of traceparents) {
    const context = spanContextOf(traceparent)
    if (context) links.push({ context })
    if (links.length === 128) break
  }
  return links
}

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
    /** Batches this instance processes at once; 0: this instance only ingests. */
    workers: option.int(2, { min: 0, max: 64 }),
    /**
     * Rows ingested here that this instance's workers take straight from ingest (inserted leased
     * to them, attempt 1) instead of claiming them back from the table; past it, rows go pending.
     * 0: every row goes through a claim.
     */
    handoffRows: option.int(2000, { min: 0, max: 1_000_000 }),
    /** Rows leased per claim. */
    claimBatch: option.int(500, { min: 1, max: 5000 }),
    /** How long a lease lasts without a heartbeat. */
    leaseMs: option.duration(10_000, { min: 100, max: 3_600_000 }),
    /** How often a worker extends the leases of the batch in hand (shorter than leaseMs). */
    heartbeatMs: option.duration(3000, { min: 10, max: 3_600_000 }),
    /** How often expired leases are returned to pending. */
    rescueIntervalMs: option.duration(1000, { min: 10, max: 3_600_000 }),
    /** The polling fallback beside LISTEN/NOTIFY. */
    pollIntervalMs: option.duration(1000, { min: 10, max: 3_600_000 }),
    /** Attempts before a row is dead (an admin retry gives it as many again). */
    maxAttempts: option.int(5, { min: 1, max: 1000 }),
    retryBaseMs: option.duration(1000, { min: 1, max: 3_600_000 }),
    retryMaxMs: option.duration(60_000, { min: 1, max: 86_400_000 }),
    /** How often the backlog gauges are read from the database. */
    backlogRefreshMs: option.duration(5000, { min: 100, max: 3_600_000 }),
    /** Done raw rows older than this (by ingest time) are deleted; their analytics rows stay. 0 keeps them. */
    rawRetentionMs: option.duration(7 * 86_400_000, { min: 0, max: 3650 * 86_400_000 }),
    /** How often the retention looks for done rows past rawRetentionMs. */
    retentionIntervalMs: option.duration(60_000, { min: 100, max: 86_400_000 }),
    /** Rows per retention delete (each its own short transaction). */
    retentionBatchRows: option.int(10_000, { min: 1, max: 1_000_000 }),
  },
  async setup(ctx) {
    const { config } = ctx
    if (config.heartbeatMs >= config.leaseMs) throw new Error(`ANALYTICS_HEARTBEAT_MS (${config.heartbeatMs}) must be shorter than ANALYTICS_LEASE_MS (${config.leaseMs})`)
    const db = ctx.use('db')
    const applied = await db.migrate('analytics', MIGRATIONS)
    if (applied.length > 0) ctx.log.info({ applied, kind: db.kind }, 'migrations applied')

    // An outage answers 503 and turns /readyz to 503 until a query (or the watch's probe) succeeds.
    const probeIntervalMs = 5000
    const { database, watch } = watchAvailability(db, { onChange: (status) => ctx.health.report('database', status), probeIntervalMs })
    ctx.signal.addEventListener('abort', () => watch.stop())
    // With tracing off the tracer is a no-op whose spans have no valid context: skip the wrappers.
    const probe = ctx.tracer.startSpan('analytics probe')
    const tracing = isSpanContextValid(probe.spanContext())
    probe.end()

    const m = {
      ingested: ctx.metrics.counter('ingested_rows_total', 'Raw rows committed by ingest'),
      ingestFailed: ctx.metrics.counter('ingest_failed_rows_total', 'Rows of failed ingest batch writes, by reason', ['reason']),
      batchRows: ctx.metrics.histogram('batch_rows', 'Rows per ingest batch', [], [1, 5, 10, 25, 50, 100, 250, 500, 1000, 5000]),
      commitSeconds: ctx.metrics.histogram('commit_seconds', 'Ingest batch write and commit latency', [], [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]),
      processed: ctx.metrics.counter('processed_rows_total', 'Raw rows processed into analytics'),
      failures: ctx.metrics.counter('processing_failures_total', 'Row processing attempts that failed'),
      dead: ctx.metrics.counter('dead_rows_total', 'Rows moved to dead, by why', ['reason']),
      expiries: ctx.metrics.counter('lease_expiries_total', 'Leases found expired by the rescuer'),
      rescues: ctx.metrics.counter('rescued_rows_total', 'Rows the rescuer returned to pending'),
      fencedOut: ctx.metrics.counter('fenced_out_rows_total', 'Completions refused because another attempt held the row'),
      handedOff: ctx.metrics.counter('handed_off_rows_total', "Rows inserted leased to this instance's workers (no claim)"),
      handoffExpired: ctx.metrics.counter('handoff_expired_rows_total', 'Handed-off rows whose lease ran short before a worker took them (left to the rescuer)'),
      lag: ctx.metrics.histogram('processing_lag_seconds', 'From ingest (row time) to its analytics row', [], [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900]),
      backlog: ctx.metrics.gauge('backlog_rows', 'Raw rows by state (pending, leased, dead)', ['state']),
      oldest: ctx.metrics.gauge('oldest_pending_age_seconds', 'Age of the oldest pending raw row'),
      retained: ctx.metrics.counter('retention_deleted_rows_total', 'Done raw rows deleted past ANALYTICS_RAW_RETENTION_MS'),
    }

    const owner = `${hostname()}:${process.pid}:${ctx.generation}:${randomBytes(3).toString('hex')}`
    const claimSpans = new WeakMap<ClaimedRow, SpanContext>()
    const handoff =
      config.workers > 0 && config.handoffRows > 0
        ? new Handoff({
            owner,
            leaseMs: config.leaseMs,
            capacity: config.handoffRows,
            marginMs: config.heartbeatMs,
            // The dispatcher is declared below; rows arrive only after setup.
            onRows: () => dispatcher.handedOff(),
            onExpired: (rows) => {
              m.handoffExpired.inc(rows)
              ctx.log.warn({ rows, leaseMs: config.leaseMs }, 'handed-off rows waited too long for a worker: their leases will be rescued')
            },
          })
        : undefined
    // The claim of a handed-off batch is its insert: its span is a child of the batch commit.
    const handoffFor = (reservation: Reservation): Reservation => ({
      lease: reservation.lease,
      cancel: () => reservation.cancel(),
      fill: (rows) => {
        if (tracing) {
          const span = ctx.tracer.startSpan('analytics claim', {
            kind: SpanKind.INTERNAL,
            attributes: {
              'analytics.lease.owner': owner,
              'analytics.claim.rows': rows.length,
              'analytics.claim.handoff': true,
              ...(rows.length > 0 ? { 'analytics.claim.first_raw_id': rows[0]!.id } : {}),
            },
            links: linksTo(rows.map((row) => row.traceparent)),
          })
          for (const row of rows) claimSpans.set(row, span.spanContext())
          span.end()
        }
        m.handedOff.inc(rows.length)
        reservation.fill(rows)
      },
    })

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
      ...(handoff
        ? {
            handoff: {
              reserve: (rows: number) => {
                const reservation = handoff.reserve(rows)
                return reservation && handoffFor(reservation)
              },
            },
          }
        : {}),
      // One span per batch, linked to the request span of every row in it.
      ...(tracing
        ? {
            around: (rows, write) =>
              ctx.tracer.startActiveSpan(
                'analytics batch commit',
                { kind: SpanKind.CLIENT, links: linksTo(rows.map((row) => row.traceparent)), attributes: { 'analytics.batch.rows': rows.length } },
                (span) => ending(span, write),
              ),
          }
        : {}),
      onBatch: (report) => {
        m.batchRows.observe(report.rows)
        m.commitSeconds.observe(report.ms / 1000)
        if (report.error === undefined) {
          m.ingested.inc(report.rows)
          ctx.log.debug({ rows: report.rows, ms: report.ms }, 'batch committed')
        } else {
          const outage = isUnavailable(report.error)
          m.ingestFailed.inc({ reason: outage ? 'outage' : 'error' }, report.rows)
          // An outage is reported once, through health; other failures each get a line.
          if (!outage) ctx.log.warn({ err: report.error, rows: report.rows, ms: report.ms }, 'batch write failed; its rows are tried one by one')
          else ctx.log.debug({ rows: report.rows, ms: report.ms }, 'batch write failed: database unavailable')
        }
        if (report.late > 0) ctx.log.warn({ rows: report.late, ms: report.ms }, 'rows committed after their requests were answered 503 (commit timeout)')
      },
    })

    const leases = new LeaseStore(database, { maxAttempts: config.maxAttempts })
    const processors = new ProcessorChain()
    const quiet = (error: unknown) => isUnavailable(error)
    const dispatcher = new Dispatcher({
      leases,
      processors,
      owner,
      workers: config.workers,
      claimBatch: config.claimBatch,
      leaseMs: config.leaseMs,
      heartbeatMs: config.heartbeatMs,
      pollIntervalMs: config.pollIntervalMs,
      rescueIntervalMs: config.rescueIntervalMs,
      backoff: { baseMs: config.retryBaseMs, maxMs: config.retryMaxMs },
      ...(handoff ? { handoff } : {}),
      ...(tracing
        ? {
            aroundClaim: (claim) =>
              ctx.tracer.startActiveSpan('analytics claim', { kind: SpanKind.INTERNAL, attributes: { 'analytics.lease.owner': owner } }, (span) =>
                ending(span, async () => {
                  const rows = await claim()
                  span.setAttribute('analytics.claim.rows', rows.length)
                  if (rows.length > 0) span.setAttribute('analytics.claim.first_raw_id', rows[0]!.id)
                  span.addLinks(linksTo(rows.map((row) => row.traceparent)))
                  for (const row of rows) claimSpans.set(row, span.spanContext())
                  return rows
                }),
              ),
            // Each row's processing continues the trace of its ingest request.
            aroundProcess: (row, process) => {
              const claimedBy = claimSpans.get(row)
              return ctx.tracer.startActiveSpan(
                'analytics process',
                { kind: SpanKind.CONSUMER, attributes: { 'analytics.raw_id': row.id, 'analytics.attempt': row.attempts }, links: claimedBy ? [{ context: claimedBy }] : [] },
                parentContextOf(row.traceparent),
                (span) => ending(span, process),
              )
            },
          }
        : {}),
      events: {
        completed: (c, ms) => {
          m.processed.inc(c.stored)
          const now = Date.now()
          for (const time of c.storedTimes) m.lag.observe(Math.max(0, now - time.getTime()) / 1000)
          if (c.fencedOut > 0) m.fencedOut.inc(c.fencedOut)
          if (c.dead > 0) m.dead.inc({ reason: 'failed' }, c.dead)
          ctx.log.debug({ stored: c.stored, retried: c.retried, dead: c.dead, fencedOut: c.fencedOut, ms }, 'batch processed')
          if (c.dead > 0) ctx.log.warn({ rows: c.dead, maxAttempts: config.maxAttempts }, 'rows moved to dead after their last attempt failed')
        },
        failed: ({ id, attempt, error }) => {
          m.failures.inc()
          // The message is enough per attempt: a processor failing every row would print a stack per row.
          ctx.log.warn({ rawId: id, attempt, error: error instanceof Error ? error.message : String(error) }, 'processing a row failed')
        },
        leasesLost: (rows) => ctx.log.warn({ rows }, 'leases lost before the batch completed: those rows are left to their new attempt'),
        rescued: (r) => {
          m.expiries.inc(r.pending + r.dead)
          m.rescues.inc(r.pending)
          if (r.dead > 0) m.dead.inc({ reason: 'lease' }, r.dead)
          ctx.log.info({ pending: r.pending, dead: r.dead }, 'expired leases rescued')
        },
        error: (step, error) => {
          if (!quiet(error)) ctx.log.warn({ err: error, step }, `analytics ${step} failed`)
        },
      },
    })

    const refreshBacklog = async () => {
      try {
        const b = await backlog(database)
        m.backlog.set({ state: 'pending' }, b.pending)
        m.backlog.set({ state: 'leased' }, b.leased)
        m.backlog.set({ state: 'dead' }, b.dead)
        m.oldest.set(b.oldestPendingAgeSeconds)
      } catch (error) {
        if (!quiet(error)) ctx.log.warn({ err: error }, 'reading the backlog failed')
      }
    }
    const backlogTimer = setInterval(() => void refreshBacklog(), config.backlogRefreshMs)
    backlogTimer.unref()

    const retention = new RawRetention(database, {
      retainMs: config.rawRetentionMs,
      intervalMs: config.retentionIntervalMs,
      batchRows: config.retentionBatchRows,
      onRound: ({ deleted, ms, error }) => {
        if (deleted > 0) m.retained.inc(deleted)
        if (error !== undefined && !quiet(error)) ctx.log.warn({ err: error, deleted }, 'deleting done raw rows past retention failed')
        else if (deleted > 0) ctx.log.info({ deleted, ms, retentionMs: config.rawRetentionMs }, 'done raw rows past retention deleted')
      },
    })
    retention.start()

    let unlisten: (() => Promise<void>) | undefined
    if (config.workers > 0) {
      try {
        unlisten = await db.listen(WAKE_CHANNEL, () => dispatcher.wake(), { onReconnect: () => dispatcher.wake() })
      } catch (error) {
        ctx.log.warn({ err: error, pollIntervalMs: config.pollIntervalMs }, 'LISTEN failed: the workers poll instead')
      }
      dispatcher.start()
    }

    ctx.http.route(
      analyticsRoutes({
        ingest,
        db: database,
        leases,
        readJson: (c) => ctx.http.readJson(c, { maxBytes: config.maxBodyBytes, limitName: 'ANALYTICS_MAX_BODY_BYTES' }),
        page: new Map(Object.keys(PAGE_TYPES).map((name) => [name, readFileSync(join(ctx.dir, 'page', name), 'utf8')])),
        requireAdmin: requireBearer(ctx.kernel.adminToken, { disabled: 'analytics admin is disabled: set ADMIN_TOKEN to enable it' }),
      }),
    )

    // Workers finish the batches in hand at Work; ingress has stopped by Flush, when what is
    // queued is committed and answered; the db closes at Egress, after both.
    ctx.onStop(
      'stop workers',
      async () => {
        clearInterval(backlogTimer)
        await unlisten?.()
        await Promise.all([dispatcher.stop(), retention.stop()])
      },
      { phase: Phase.Work, timeoutMs: 10_000 },
    )
    ctx.onStop('commit queued rows', () => ingest.close(), { phase: Phase.Flush, timeoutMs: Math.max(5000, config.commitTimeoutMs + 1000) })

    const api: AnalyticsApi = {
      addProcessor: (name, processor, options) => processors.add(name, processor, options),
      processors: () => processors.names,
      backlog: () => backlog(database),
    }
    ctx.provide(api)
  },
})
