// The tables, applied through the db plugin's migrations (the same SQL on PostgreSQL and PGlite).
//
// raw_analytics is the inbox: a row is `pending` until a dispatcher leases it (`leased`, with an
// owner and an expiry, `attempts` + 1), then `done` once its analytics row is committed, or
// `pending` again after a failure (not before `available_at`), or `dead` after `maxAttempts`.
// Nothing else changes `state`, so a row is always in exactly one of the four, and a leased one
// always has an expiry that the rescuer enforces.

export interface Migration {
  id: string
  sql: string
}

export const MIGRATIONS: readonly Migration[] = [
  {
    id: '001-raw-analytics',
    sql: `CREATE TABLE raw_analytics (
      id bigserial PRIMARY KEY,
      time timestamptz(0) NOT NULL,
      user_id uuid NOT NULL,
      data jsonb NOT NULL,
      state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'leased', 'done', 'dead')),
      attempts integer NOT NULL DEFAULT 0,
      available_at timestamptz NOT NULL DEFAULT now(),
      lease_owner text,
      lease_expires_at timestamptz,
      last_error text,
      traceparent text
    );
    CREATE INDEX raw_analytics_pending ON raw_analytics (id) WHERE state = 'pending';
    CREATE INDEX raw_analytics_leased ON raw_analytics (lease_expires_at) WHERE state = 'leased';
    CREATE INDEX raw_analytics_dead ON raw_analytics (id) WHERE state = 'dead'`,
  },
  {
    id: '002-analytics',
    sql: `CREATE TABLE analytics (
      id bigserial PRIMARY KEY,
      raw_id bigint NOT NULL UNIQUE,
      time timestamptz(0) NOT NULL,
      user_id uuid NOT NULL,
      data jsonb NOT NULL,
      module text,
      type text,
      event text,
      name text,
      device_id text,
      device_type text,
      os_version text,
      app_version text,
      app_build text,
      attempt integer NOT NULL,
      processed_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX analytics_processed_at ON analytics (processed_at);
    CREATE TABLE analytics_rollups (
      minute timestamptz(0) NOT NULL,
      event text NOT NULL,
      type text NOT NULL,
      device_type text NOT NULL,
      count bigint NOT NULL,
      PRIMARY KEY (minute, event, type, device_type)
    )`,
  },
  {
    // An admin retry of a dead row gives it maxAttempts more without lowering `attempts`, which
    // must only ever grow: it is the fencing token a worker completes with.
    id: '003-attempts-before-retry',
    sql: `ALTER TABLE raw_analytics ADD COLUMN attempts_before_retry integer NOT NULL DEFAULT 0`,
  },
  {
    // Retention deletes done rows by age: a BRIN index on `time` (which grows with the ids) finds
    // old block ranges and costs ingest next to nothing, where a B-tree would cost every insert.
    id: '004-raw-time-brin',
    sql: `CREATE INDEX raw_analytics_time ON raw_analytics USING brin (time)`,
  },
  {
    // processed_at only grows, and only the drain rate reads it (a range of the last seconds):
    // BRIN answers that from a few block ranges, where the B-tree cost every completed row an entry.
    id: '005-processed-at-brin',
    sql: `DROP INDEX analytics_processed_at;
    CREATE INDEX analytics_processed_at ON analytics USING brin (processed_at)`,
  },
]
