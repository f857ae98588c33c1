// The read side: events per minute from the rollups, and the backlog of raw rows.
import { IngestError } from './errors.ts'
import { normaliseKey } from './processor.ts'
import type { SqlDatabase } from './sql.ts'

export interface StatsQuery {
  from: Date
  to: Date
  event: string | null
}

export interface Stats {
  from: string
  to: string
  event: string | null
  total: number
  /** Minutes with events, oldest first. */
  minutes: Array<{ minute: string; count: number }>
  byEvent: Record<string, number>
  byType: Record<string, number>
  byDeviceType: Record<string, number>
}

export interface Backlog {
  pending: number
  leased: number
  dead: number
  /** Seconds since the oldest pending row arrived; 0 when none is pending. */
  oldestPendingAgeSeconds: number
  /** Rows processed per second over the last `drainWindowSeconds`, by every instance. */
  drainRatePerSecond: number
  drainWindowSeconds: number
}

/** Longest range one stats request may cover. */
export const MAX_STATS_RANGE_MS = 31 * 24 * 3600_000
const DEFAULT_RANGE_MS = 3600_000
export const DRAIN_WINDOW_SECONDS = 10

/** `from`/`to` as ISO 8601 (or epoch ms), default the last hour; 400 naming the parameter otherwise. */
export function parseStatsQuery(params: { from?: string | undefined; to?: string | undefined; event?: string | undefined }, now = new Date()): StatsQuery {
  const time = (name: 'from' | 'to', fallback: Date): Date => {
    const value = params[name]
    if (value === undefined || value === '') return fallback
    const date = /^\d+$/.test(value) ? new Date(Number(value)) : new Date(value)
    if (Number.isNaN(date.getTime()))
      throw new IngestError(`${name} must be an ISO 8601 time (2026-12-01T10:00:00Z) or epoch milliseconds, got ${JSON.stringify(value.slice(0, 60))}`, name)
    return date
  }
  const to = time('to', now)
  const from = time('from', new Date(to.getTime() - DEFAULT_RANGE_MS))
  if (from.getTime() > to.getTime()) throw new IngestError('from must not be after to', 'from')
  if (to.getTime() - from.getTime() > MAX_STATS_RANGE_MS) throw new IngestError(`the range from..to may span at most ${MAX_STATS_RANGE_MS / 86_400_000} days`, 'from')
  const event = params.event === undefined || params.event === '' ? null : normaliseKey(params.event)
  return { from, to, event }
}

export async function stats(db: SqlDatabase, q: StatsQuery): Promise<Stats> {
  const filter = q.event === null ? '' : 'AND event = $3'
  const params = q.event === null ? [q.from, q.to] : [q.from, q.to, q.event]
  const [minutes, groups] = await Promise.all([
    db.query<{ minute: Date | string; count: string }>(
      `SELECT minute, sum(count)::text AS count FROM analytics_rollups WHERE minute >= date_trunc('minute', $1::timestamptz) AND minute <= $2 ${filter} GROUP BY minute ORDER BY minute`,
      params,
    ),
    db.query<{ event: string; type: string; device_type: string; count: string }>(
      `SELECT event, type, device_type, sum(count)::text AS count FROM analytics_rollups WHERE minute >= date_trunc('minute', $1::timestamptz) AND minute <= $2 ${filter} GROUP BY event, type, device_type`,
      params,
    ),
  ])
  const byEvent: Record<string, number> = {}
  const byType: Record<string, number> = {}
  const byDeviceType: Record<string, number> = {}
  let total = 0
  for (const row of groups.rows) {
    const n = Number(row.count)
    total += n
    byEvent[row.event] = (byEvent[row.event] ?? 0) + n
    byType[row.type] = (byType[row.type] ?? 0) + n
    byDeviceType[row.device_type] = (byDeviceType[row.device_type] ?? 0) + n
  }
  return {
    from: q.from.toISOString(),
    to: q.to.toISOString(),
    event: q.event,
    total,
    minutes: minutes.rows.map((row) => ({ minute: new Date(row.minute).toISOString(), count: Number(row.count) })),
    byEvent,
    byType,
    byDeviceType,
  }
}

export async function backlog(db: SqlDatabase): Promise<Backlog> {
  const { rows } = await db.query<{ pending: string; leased: string; dead: string; oldest: number | null; drained: string }>(
    `SELECT (SELECT count(*) FROM raw_analytics WHERE state = 'pending')::text AS pending,
            (SELECT count(*) FROM raw_analytics WHERE state = 'leased')::text AS leased,
            (SELECT count(*) FROM raw_analytics WHERE state = 'dead')::text AS dead,
            (SELECT extract(epoch FROM now() - time)::float8 FROM raw_analytics WHERE state = 'pending' ORDER BY id LIMIT 1) AS oldest,
            (SELECT count(*) FROM analytics WHERE processed_at > now() - make_interval(secs => ${DRAIN_WINDOW_SECONDS}))::text AS drained`,
  )
  const row = rows[0]!
  return {
    pending: Number(row.pending),
    leased: Number(row.leased),
    dead: Number(row.dead),
    oldestPendingAgeSeconds: Math.max(0, Math.round(Number(row.oldest ?? 0))),
    drainRatePerSecond: Math.round((Number(row.drained) / DRAIN_WINDOW_SECONDS) * 10) / 10,
    drainWindowSeconds: DRAIN_WINDOW_SECONDS,
  }
}
