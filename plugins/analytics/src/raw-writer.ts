// Writing a batch of raw rows: one statement, so one round trip and its own transaction. The
// batch travels as one JSON parameter read by json_to_recordset (the rows' `data` is JSON text
// already, so building it is string concatenation).
//
// Pending rows go out with a NOTIFY for the dispatchers (sent at commit, so only with rows that
// committed). Rows handed to this instance's own workers are inserted already leased to them
// (attempt 1, the lease's expiry set), with their ids answered in row order: the claim happens
// in the insert, and a worker that dies before completing them leaves leases the rescuer
// returns, exactly as after a claim.
import type { RawRow } from './ingest-request.ts'
import { msInterval, type SqlDatabase } from './sql.ts'

export const WAKE_CHANNEL = 'analytics_raw'

export interface LeaseAtInsert {
  owner: string
  leaseMs: number
}

const RECORDSET = `json_to_recordset($1::json) AS (t timestamptz, u uuid, d jsonb, p text)`

// `v` is materialised (nextval is volatile): the INSERT and the final SELECT read the same ids.
const INSERT_LEASED = `WITH v AS MATERIALIZED (
    SELECT nextval('raw_analytics_id_seq') AS id, r.* FROM ROWS FROM (${RECORDSET}) WITH ORDINALITY AS r(t, u, d, p, ord)
  ),
  ins AS (
    INSERT INTO raw_analytics (id, time, user_id, data, traceparent, state, attempts, lease_owner, lease_expires_at)
    SELECT id, t, u, d, p, 'leased', 1, $2, now() + ${msInterval('$3')} FROM v
  )
  SELECT id::text AS id FROM v ORDER BY ord`

const INSERT_PENDING = `WITH ins AS (
    INSERT INTO raw_analytics (time, user_id, data, traceparent) SELECT t, u, d, p FROM ${RECORDSET}
  )
  SELECT pg_notify('${WAKE_CHANNEL}', $2)`

/** The batch as one JSON array; `data` goes in as the JSON text it already is. */
export function recordset(rows: readonly RawRow[]): string {
  let json = '['
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!
    if (i > 0) json += ','
    json += `{"t":"${row.time.toISOString()}","u":"${row.userId}","d":${row.data},"p":${row.traceparent === null ? 'null' : JSON.stringify(row.traceparent)}}`
  }
  return json + ']'
}

/** Inserts `rows` as pending and wakes the dispatchers. */
export async function writePendingRows(db: SqlDatabase, rows: readonly RawRow[]): Promise<void> {
  await db.query(INSERT_PENDING, [recordset(rows), String(rows.length)])
}

/** Inserts `rows` leased to `lease.owner` (attempt 1); answers their ids in the order of `rows`. */
export async function writeLeasedRows(db: SqlDatabase, rows: readonly RawRow[], lease: LeaseAtInsert): Promise<string[]> {
  const { rows: ids } = await db.query<{ id: string }>(INSERT_LEASED, [recordset(rows), lease.owner, lease.leaseMs])
  return ids.map((row) => row.id)
}
