// The orders' tables, normalised: one row per order, its delivery and its payment, one per item.
import type { Migration } from '@armature/plugin-db'

export const MIGRATIONS: Migration[] = [
  {
    id: '001-orders',
    sql: `
CREATE TABLE orders (
  order_uid text PRIMARY KEY,
  track_number text NOT NULL,
  entry text NOT NULL,
  locale text NOT NULL,
  internal_signature text NOT NULL,
  customer_id text NOT NULL,
  delivery_service text NOT NULL,
  shardkey text NOT NULL,
  sm_id bigint NOT NULL,
  -- kept as received, so the order is answered with the same string
  date_created text NOT NULL,
  -- date_created in ms since the epoch: the order of "newest" (cache warm-up, listing, eviction)
  created_ms bigint NOT NULL,
  oof_shard text NOT NULL,
  -- sha256 of the validated order: a re-sent order with another payload is a conflict, not an overwrite
  payload_hash text NOT NULL,
  stored_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_newest ON orders (created_ms DESC, order_uid DESC);
CREATE TABLE deliveries (
  order_uid text PRIMARY KEY REFERENCES orders ON DELETE CASCADE,
  name text NOT NULL,
  phone text NOT NULL,
  zip text NOT NULL,
  city text NOT NULL,
  address text NOT NULL,
  region text NOT NULL,
  email text NOT NULL
);
CREATE TABLE payments (
  order_uid text PRIMARY KEY REFERENCES orders ON DELETE CASCADE,
  transaction text NOT NULL,
  request_id text NOT NULL,
  currency text NOT NULL,
  provider text NOT NULL,
  amount bigint NOT NULL,
  payment_dt bigint NOT NULL,
  bank text NOT NULL,
  delivery_cost bigint NOT NULL,
  goods_total bigint NOT NULL,
  custom_fee bigint NOT NULL
);
CREATE TABLE items (
  order_uid text NOT NULL REFERENCES orders ON DELETE CASCADE,
  position int NOT NULL,
  chrt_id bigint NOT NULL,
  track_number text NOT NULL,
  price bigint NOT NULL,
  rid text NOT NULL,
  name text NOT NULL,
  sale int NOT NULL,
  size text NOT NULL,
  total_price bigint NOT NULL,
  nm_id bigint NOT NULL,
  brand text NOT NULL,
  status int NOT NULL,
  PRIMARY KEY (order_uid, position)
)`,
  },
  {
    // A re-sent uid is compared with the order as stored (its JSON, read only then), so nothing
    // is hashed per order consumed.
    id: '002-no-payload-hash',
    sql: 'ALTER TABLE orders DROP COLUMN payload_hash',
  },
  {
    // Every key holds order_uid, which the schema limits to [A-Za-z0-9_-]: byte order is the only
    // order it needs, and the "C" collation compares bytes (memcmp) where the database's default
    // goes through the locale's strcoll on every comparison of every index insert and lookup.
    // The foreign keys are dropped and added again around the change (their columns must agree);
    // on a filled database this rebuilds the four key indexes once.
    id: '003-order-uid-collate-c',
    sql: `ALTER TABLE deliveries DROP CONSTRAINT deliveries_order_uid_fkey;
ALTER TABLE payments DROP CONSTRAINT payments_order_uid_fkey;
ALTER TABLE items DROP CONSTRAINT items_order_uid_fkey;
ALTER TABLE orders ALTER COLUMN order_uid TYPE text COLLATE "C";
ALTER TABLE deliveries ALTER COLUMN order_uid TYPE text COLLATE "C";
ALTER TABLE payments ALTER COLUMN order_uid TYPE text COLLATE "C";
ALTER TABLE items ALTER COLUMN order_uid TYPE text COLLATE "C";
ALTER TABLE deliveries ADD CONSTRAINT deliveries_order_uid_fkey FOREIGN KEY (order_uid) REFERENCES orders ON DELETE CASCADE;
ALTER TABLE payments ADD CONSTRAINT payments_order_uid_fkey FOREIGN KEY (order_uid) REFERENCES orders ON DELETE CASCADE;
ALTER TABLE items ADD CONSTRAINT items_order_uid_fkey FOREIGN KEY (order_uid) REFERENCES orders ON DELETE CASCADE`,
  },
]
