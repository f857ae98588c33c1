// The SQL of leased processing. Every statement that ends a lease names the attempt it holds
// (`attempts`, the fencing token) and `state = 'leased'`, so a worker whose lease expired and
// whose row was claimed again changes nothing: the newer attempt owns the row.
import type { ProcessedEvent } from './processor.ts'
import { MAX_PARAMS, msInterval, valuesList, type SqlDatabase } from './sql.ts'

export interface ClaimedRow {
  id: string
  attempts: number
  time: Date
  user_id: string
  data: { headers?: Record<string, string>; body?: Record<string, unknown> }
  traceparent: string | null
}

export interface Done {
  id: string
  attempt: number
  /** The raw row's time (for the processing lag). */
  time: Date
  processed: ProcessedEvent
}

export interface Failed {
  id: string
  attempt: number
  error: string
  delayMs: number
}

export interface Completion {
  /** Rows whose analytics row was inserted now. */
  stored: number
  /** Done rows whose lease had been lost (another attempt owns them): nothing written. */
  fencedOut: number
  /** Failed rows back to pending, and moved to dead. */
  retried: number
  dead: number
  /** The event time of each stored row, for the processing lag. */
  storedTimes: Date[]
}

export interface RescueResult {
  pending: number
  dead: number
}

export interface DeadRow {
  id: string
  time: Date
  user_id: string
  attempts: number
  last_error: string | null
  data: unknown
}

/** Done rows per statement: one JSON parameter each, kept to a few megabytes. */
const DONE_CHUNK = 5000

export class LeaseStore {
  readonly #db: SqlDatabase
  readonly #maxAttempts: number

  constructor(db: SqlDatabase, options: { maxAttempts: number }) {
    this.#db = db
    this.#maxAttempts = options.maxAttempts
  }

  /** Leases up to `limit` pending rows that are due, oldest first; rows other claimers hold are skipped, never waited for. */
  async claim(owner: string, limit: number, leaseMs: number): Promise<ClaimedRow[]> {
    const { rows } = await this.#db.query<ClaimedRow>(
      `UPDATE raw_analytics r
         SET state = 'leased', attempts = r.attempts + 1, lease_owner = $1, lease_expires_at = now() + ${msInterval('$2')}
        FROM (SELECT id FROM raw_analytics WHERE state = 'pending' AND available_at <= now() ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED) due
       WHERE r.id = due.id
      RETURNING r.id::text AS id, r.attempts, r.time, r.user_id::text AS user_id, r.data, r.traceparent`,
      [owner, leaseMs, limit],
    )
    return rows
  }

  /** Extends the leases `owner` still holds; answers the ids still held (the others were lost). */
  async heartbeat(owner: string, held: ReadonlyArray<{ id: string; attempt: number }>, leaseMs: number): Promise<Set<string>> {
    const kept = new Set<string>()
    for (const part of chunks(held, Math.floor((MAX_PARAMS - 2) / 2))) {
      const { rows } = await this.#db.query<{ id: string }>(
        `UPDATE raw_analytics r SET lease_expires_at = now() + ${msInterval('$2')}
           FROM (VALUES ${valuesList(part.length, ['::bigint', '::int'], 2)}) AS v(id, attempt)
          WHERE r.id = v.id AND r.attempts = v.attempt AND r.state = 'leased' AND r.lease_owner = $1
         RETURNING r.id::text AS id`,
        [owner, leaseMs, ...part.flatMap((row) => [row.id, row.attempt])],
      )
      for (const row of rows) kept.add(row.id)
    }
    return kept
  }

  /**
   * Done rows become `done` with their analytics row (ON CONFLICT (raw_id) DO NOTHING) and their
   * rollup counts; failed ones go back to pending after their delay, or to dead past maxAttempts.
   * All of it fenced by the attempt. Each statement is its own transaction and covers each of its
   * rows whole (state, analytics row and count together), so nothing spans two statements.
   */
  async complete(done: readonly Done[], failed: readonly Failed[]): Promise<Completion> {
    const result: Completion = { stored: 0, fencedOut: 0, retried: 0, dead: 0, storedTimes: [] }
    for (const part of chunks(done, DONE_CHUNK)) {
      const { stored, ids } = await storeDone(this.#db, part)
      result.stored += stored
      result.fencedOut += part.length - stored
      if (ids === null) for (const row of part) result.storedTimes.push(row.time)
      else {
        const timeOf = new Map(part.map((row) => [row.id, row.time]))
        for (const id of ids) result.storedTimes.push(timeOf.get(id)!)
      }
    }
    for (const part of chunks(failed, Math.floor((MAX_PARAMS - 1) / 4))) {
      const { rows } = await this.#db.query<{ state: string }>(
        `UPDATE raw_analytics r
           SET state = CASE WHEN r.attempts - r.attempts_before_retry >= $1 THEN 'dead' ELSE 'pending' END,
               available_at = now() + make_interval(secs => v.delay_ms / 1000), last_error = v.error, lease_owner = NULL, lease_expires_at = NULL
          FROM (VALUES ${valuesList(part.length, ['::bigint', '::int', '::text', '::float8'], 1)}) AS v(id, attempt, error, delay_ms)
         WHERE r.id = v.id AND r.attempts = v.attempt AND r.state = 'leased'
        RETURNING r.state`,
        [this.#maxAttempts, ...part.flatMap((row) => [row.id, row.attempt, row.error.slice(0, 2000), row.delayMs])],
      )
      for (const row of rows) {
        if (row.state === 'dead') result.dead++
        else result.retried++
      }
    }
    return result
  }

  /** Expired leases back to pending (or dead past maxAttempts: a row that keeps killing its worker stops being retried). */
  async rescue(limit = 10_000): Promise<RescueResult> {
    const { rows } = await this.#db.query<{ state: string }>(
      `UPDATE raw_analytics r
         SET state = CASE WHEN r.attempts - r.attempts_before_retry >= $1 THEN 'dead' ELSE 'pending' END,
             last_error = left('lease of ' || coalesce(r.lease_owner, '?') || ' expired in attempt ' || r.attempts || coalesce('; before: ' || r.last_error, ''), 2000),
             lease_owner = NULL, lease_expires_at = NULL, available_at = now()
        FROM (SELECT id FROM raw_analytics WHERE state = 'leased' AND lease_expires_at < now() ORDER BY lease_expires_at LIMIT $2 FOR UPDATE SKIP LOCKED) expired
       WHERE r.id = expired.id
      RETURNING r.state`,
      [this.#maxAttempts, limit],
    )
    const dead = rows.filter((row) => row.state === 'dead').length
    return { pending: rows.length - dead, dead }
  }

  async dead(limit: number, afterId = '0'): Promise<DeadRow[]> {
    const { rows } = await this.#db.query<DeadRow>(
      `SELECT id::text AS id, time, user_id::text AS user_id, attempts, last_error, data FROM raw_analytics WHERE state = 'dead' AND id > $1::bigint ORDER BY id LIMIT $2`,
      [afterId, limit],
    )
    return rows
  }

  /** Dead rows (`id`, or every dead row) back to pending with maxAttempts more; answers the ids. */
  async retryDead(id?: string): Promise<string[]> {
    const { rows } = await this.#db.query<{ id: string }>(
      `UPDATE raw_analytics SET state = 'pending', available_at = now(), attempts_before_retry = attempts
        WHERE state = 'dead' ${id === undefined ? '' : 'AND id = $1::bigint'} RETURNING id::text AS id`,
      id === undefined ? [] : [id],
    )
    return rows.map((row) => row.id)
  }

  async stateOf(id: string): Promise<string | undefined> {
    const { rows } = await this.#db.query<{ state: string }>('SELECT state FROM raw_analytics WHERE id = $1::bigint', [id])
    return rows[0]?.state
  }
}

// The batch travels as one JSON document read by json_to_recordset: one parameter, however many
// rows (thousands of VALUES parameters cost more to bind, on both sides, than one JSON parse).
// One statement: the fenced state change, the analytics rows and the rollup counts of exactly
// the rows stored, answered as one row (how many were stored and, only when some were fenced
// out, which). The analytics row joins its fenced raw row on the attempt as well as the id, so a
// batch holding two attempts of one row stores the data of the one that holds the lease. Rollup
// keys are upserted in one order in every statement, so two completions never wait on each other
// in a cycle.
async function storeDone(db: SqlDatabase, part: readonly Done[]): Promise<{ stored: number; ids: string[] | null }> {
  const batch = JSON.stringify(
    part.map(({ id, attempt, processed: p }) => ({
      raw_id: id,
      attempt,
      data: p.data ?? null,
      module: p.module,
      type: p.type,
      event: p.event,
      name: p.name,
      device_id: p.deviceId,
      device_type: p.deviceType,
      os_version: p.osVersion,
      app_version: p.appVersion,
      app_build: p.appBuild,
    })),
  )
  const { rows } = await db.query<{ stored: number; ids: string[] | null }>(
    `WITH v AS (
       SELECT * FROM json_to_recordset($1::json) AS v(raw_id bigint, attempt int, data jsonb, module text, type text, event text, name text, device_id text, device_type text, os_version text, app_version text, app_build text)
     ),
     fenced AS (
       UPDATE raw_analytics r SET state = 'done', lease_owner = NULL, lease_expires_at = NULL
         FROM v WHERE r.id = v.raw_id AND r.attempts = v.attempt AND r.state = 'leased'
       RETURNING r.id, r.attempts, r.time, r.user_id
     ),
     stored AS (
       INSERT INTO analytics (raw_id, attempt, time, user_id, data, module, type, event, name, device_id, device_type, os_version, app_version, app_build)
       SELECT v.raw_id, v.attempt, fenced.time, fenced.user_id, coalesce(v.data, 'null'::jsonb), v.module, v.type, v.event, v.name, v.device_id, v.device_type, v.os_version, v.app_version, v.app_build
         FROM v JOIN fenced ON fenced.id = v.raw_id AND fenced.attempts = v.attempt
       ON CONFLICT (raw_id) DO NOTHING
       RETURNING raw_id, time, event, type, device_type
     ),
     counted AS (
       INSERT INTO analytics_rollups (minute, event, type, device_type, count)
       SELECT date_trunc('minute', time), coalesce(event, ''), coalesce(type, ''), coalesce(device_type, ''), count(*)
         FROM stored GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
       ON CONFLICT (minute, event, type, device_type) DO UPDATE SET count = analytics_rollups.count + EXCLUDED.count
     )
     SELECT count(*)::int AS stored, CASE WHEN count(*) < $2 THEN coalesce(array_agg(raw_id::text), '{}') END AS ids FROM stored`,
    [batch, part.length],
  )
  return rows[0]!
}

function* chunks<T>(items: readonly T[], size: number): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size)
}
