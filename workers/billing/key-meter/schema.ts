/**
 * The SQLite schema of one key's Durable Object (docs/billing.md). Every table is created if missing when the object
 * starts, so an object that has never been used is valid with no migration step. Times are ms since the epoch.
 */
export const KEY_METER_SCHEMA = `
CREATE TABLE IF NOT EXISTS meter_state (
  singleton         INTEGER PRIMARY KEY CHECK (singleton = 1),
  key_id            TEXT,
  revoked_at        INTEGER,
  bucket_tokens     REAL,
  bucket_updated_at INTEGER
);
CREATE TABLE IF NOT EXISTS monthly_usage (
  period      TEXT PRIMARY KEY,
  requests    INTEGER NOT NULL,
  images      INTEGER NOT NULL,
  texts       INTEGER NOT NULL,
  cost_micros INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS daily_usage (
  day            TEXT NOT NULL,
  route          TEXT NOT NULL,
  requests       INTEGER NOT NULL,
  images         INTEGER NOT NULL,
  texts_computed INTEGER NOT NULL,
  texts_cached   INTEGER NOT NULL,
  cost_micros    INTEGER NOT NULL,
  PRIMARY KEY (day, route)
);
CREATE TABLE IF NOT EXISTS usage_records (
  id           TEXT PRIMARY KEY,
  record       TEXT NOT NULL,
  created_at   INTEGER NOT NULL,
  export_state INTEGER NOT NULL DEFAULT 0,
  sent_at      INTEGER
);
CREATE INDEX IF NOT EXISTS usage_records_export ON usage_records (export_state, sent_at);
CREATE TABLE IF NOT EXISTS idempotency (
  idem_key    TEXT PRIMARY KEY,
  fingerprint TEXT NOT NULL,
  owner       TEXT NOT NULL,
  state       TEXT NOT NULL CHECK (state IN ('running', 'done')),
  lease_until INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL,
  record_id   TEXT,
  status      INTEGER,
  headers     TEXT
);
CREATE TABLE IF NOT EXISTS idempotency_body (
  idem_key TEXT NOT NULL,
  seq      INTEGER NOT NULL,
  chunk    BLOB NOT NULL,
  PRIMARY KEY (idem_key, seq)
);
`;

/** Export states of a usage record in the object's outbox. */
export const EXPORT = { pending: 0, sent: 1, confirmed: 2 } as const;
