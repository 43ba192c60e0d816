-- Saved label sets (POST /v1/label-sets): what a set is, per account. The ensembled embeddings themselves are in R2
-- (binding LABEL_SETS, key label-sets/v1/<id>/<model>), written before the row says `ready`; this row is the system of
-- record for who owns a set, which model made it, and whether it can be used.

CREATE TABLE label_sets (
  id          TEXT PRIMARY KEY,                  -- ls_<24 hex>, public
  account     TEXT NOT NULL,
  name        TEXT NOT NULL,
  model       TEXT NOT NULL,                     -- the model that embeds it; another model's classify is refused
  dim         INTEGER NOT NULL,
  labels      TEXT NOT NULL,                     -- JSON array of the cleaned labels, in order
  templates   TEXT NOT NULL,                     -- JSON array
  label_count INTEGER NOT NULL,
  truncated   TEXT NOT NULL DEFAULT '[]',        -- JSON array: indexes of labels with a prompt cut to the context
  status      TEXT NOT NULL CHECK (status IN ('building', 'ready', 'failed')),
  error       TEXT,
  created_at  INTEGER NOT NULL,                  -- ms since the epoch (UTC)
  updated_at  INTEGER NOT NULL
);
-- A page of an account's sets (by id), and the count the plan's limit is checked against.
CREATE INDEX label_sets_by_account ON label_sets (account, created_at, id);
