/**
 * The SQLite schema of one key's Durable Object (docs/billing.md). Times are ms since the epoch.
 *
 * Objects live for good, so the schema changes in place: `KEY_METER_SCHEMA_V1` is what every object created before
 * versioning holds (kept verbatim, created if missing, so a new object starts from it too), and each entry of
 * `MIGRATIONS` takes the schema one version further. `migrateKeyMeter` runs when the object starts, before any call
 * reaches it, and applies the steps the object has not had, in one transaction with the version they reach.
 */
export const KEY_METER_SCHEMA_V1 = `
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

/** `MIGRATIONS[i]` takes the schema from version i + 1 to i + 2. Append only; never edit a step once deployed. */
const MIGRATIONS: readonly string[] = [
  // 2: collections' units (records committed before served none of them, hence 0), and reservations: units a
  // request that writes state holds before it writes, until it settles, releases them, or `expires_at` passes.
  `
  ALTER TABLE monthly_usage ADD COLUMN item_writes INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE monthly_usage ADD COLUMN queries INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE daily_usage ADD COLUMN item_writes INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE daily_usage ADD COLUMN queries INTEGER NOT NULL DEFAULT 0;
  CREATE TABLE reservations (
    id          TEXT PRIMARY KEY,
    images      INTEGER NOT NULL,
    texts       INTEGER NOT NULL,
    item_writes INTEGER NOT NULL,
    queries     INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
  );
  CREATE INDEX reservations_expiry ON reservations (expires_at);
  `,
];

export const KEY_METER_SCHEMA_VERSION = 1 + MIGRATIONS.length;

/**
 * Brings this object's storage to the current schema: creates version 1 where nothing exists, then applies the
 * missing steps. Returns the versions it went from and to (equal when there was nothing to do).
 *
 * @example migrateKeyMeter(ctx.storage) // { from: 1, to: 2 } for an object created before reservations
 */
export function migrateKeyMeter(storage: DurableObjectStorage): { from: number; to: number } {
  const sql = storage.sql;
  return storage.transactionSync(() => {
    sql.exec(KEY_METER_SCHEMA_V1);
    sql.exec(`CREATE TABLE IF NOT EXISTS meter_schema (
      singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
      version   INTEGER NOT NULL
    )`);
    const from =
      sql.exec<{ version: number }>("SELECT version FROM meter_schema WHERE singleton = 1").toArray()[0]
        ?.version ?? 1;
    for (let version = from; version < KEY_METER_SCHEMA_VERSION; version++)
      sql.exec(MIGRATIONS[version - 1] as string);
    sql.exec(
      `INSERT INTO meter_schema (singleton, version) VALUES (1, ?1)
       ON CONFLICT (singleton) DO UPDATE SET version = ?1`,
      Math.max(from, KEY_METER_SCHEMA_VERSION),
    );
    return { from, to: Math.max(from, KEY_METER_SCHEMA_VERSION) };
  });
}

/** Export states of a usage record in the object's outbox. */
export const EXPORT = { pending: 0, sent: 1, confirmed: 2 } as const;
