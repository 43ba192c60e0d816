-- API keys (the system of record) and the usage records exported from each key's Durable Object for account-level
-- reporting. Times are milliseconds since the epoch (UTC). Applied locally by `npm start`
-- (wrangler d1 migrations apply DB --local) and in production by `npx wrangler d1 migrations apply DB --remote`.

CREATE TABLE api_keys (
  id           TEXT PRIMARY KEY,                 -- key_<16 hex>, public
  key_hash     TEXT NOT NULL UNIQUE,             -- hex SHA-256 of the whole key; the key itself is never stored
  hint         TEXT NOT NULL,                    -- clip_live_… + last 4 characters, for people telling keys apart
  name         TEXT NOT NULL,
  account      TEXT NOT NULL,
  plan         TEXT NOT NULL,
  status       TEXT NOT NULL CHECK (status IN ('active', 'revoked')),
  created_at   INTEGER NOT NULL,
  revoked_at   INTEGER,
  last_used_at INTEGER                           -- approximate: written at most once a minute per isolate
);
CREATE INDEX api_keys_by_account ON api_keys (account, created_at);

-- One row per billed request. `id` is unique per billed request, so the export's at-least-once deliveries insert
-- with ON CONFLICT (id) DO NOTHING and can never count a request twice.
CREATE TABLE usage_records (
  id             TEXT PRIMARY KEY,               -- usg_<32 hex>
  request_id     TEXT NOT NULL,
  key_id         TEXT NOT NULL,
  account        TEXT NOT NULL,
  plan           TEXT NOT NULL,
  route          TEXT NOT NULL,
  created_at     INTEGER NOT NULL,
  requests       INTEGER NOT NULL,
  images         INTEGER NOT NULL,
  texts_computed INTEGER NOT NULL,
  texts_cached   INTEGER NOT NULL,
  cost_micros    INTEGER NOT NULL,               -- micro-USD, exact
  currency       TEXT NOT NULL
);
CREATE INDEX usage_records_by_account_time ON usage_records (account, created_at, id);
CREATE INDEX usage_records_by_time ON usage_records (created_at, id);
