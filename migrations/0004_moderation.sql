-- Moderation policies (POST /v1/moderation/policies) and the labelled examples they are calibrated on. A policy's
-- concept embeddings are in R2 (binding LABEL_SETS, key policies/v1/<id>/<model>), embedded again for another model
-- on first use; its calibration is per model, and a calibration for another model is not used.

CREATE TABLE moderation_policies (
  id          TEXT PRIMARY KEY,                  -- mp_<24 hex>, public
  account     TEXT NOT NULL,
  name        TEXT NOT NULL,
  categories  TEXT NOT NULL,                     -- JSON [{name, concepts: [...], threshold}]
  calibration TEXT,                              -- JSON {<model id>: {model, target_precision, examples, categories}}
  created_at  INTEGER NOT NULL,                  -- ms since the epoch (UTC)
  updated_at  INTEGER NOT NULL
);
CREATE INDEX moderation_policies_by_account ON moderation_policies (account, id);

-- One row per labelled example: its embedding by one model (base64 of little-endian float16) and its categories.
CREATE TABLE moderation_examples (
  seq         INTEGER PRIMARY KEY AUTOINCREMENT,
  policy_id   TEXT NOT NULL,
  account     TEXT NOT NULL,
  model       TEXT NOT NULL,
  categories  TEXT NOT NULL,                     -- JSON array of category names; [] = clean
  embedding   TEXT NOT NULL,
  created_at  INTEGER NOT NULL
);
CREATE INDEX moderation_examples_by_policy ON moderation_examples (policy_id, seq);
