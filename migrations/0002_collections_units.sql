-- Collections bill two more units per request: items upserted and searches run. Records exported before this
-- migration served neither, so both columns default to 0 and every existing row stays exact.

ALTER TABLE usage_records ADD COLUMN item_writes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE usage_records ADD COLUMN queries INTEGER NOT NULL DEFAULT 0;
