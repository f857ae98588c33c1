// Writing a batch of raw rows: one COPY (PostgreSQL) or multi-row INSERT (PGlite) through the
// db plugin's copyFrom, and one NOTIFY for the dispatchers, both in the transaction, so the
// notification goes out only with rows that committed.
import type { RawRow } from './ingest-request.ts'
import type { SqlDatabase } from './sql.ts'

export const WAKE_CHANNEL = 'analytics_raw'

const COLUMNS = ['time', 'user_id', 'data', 'traceparent'] as const

export async function writeRawRows(db: SqlDatabase, rows: readonly RawRow[]): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.copyFrom(
      'raw_analytics',
      COLUMNS,
      rows.map((row) => [row.time, row.userId, row.data, row.traceparent]),
    )
    await tx.notify(WAKE_CHANNEL, String(rows.length))
  })
}
