-- Collections (issue 11): per-account sets of embedded items, searched by cosine similarity with pgvector.
-- Applied in order by tools/postgres/migrations.ts, each file in one transaction (README.md beside this file).

-- pgvector ≥ 0.8: HNSW with iterative scans (hnsw.iterative_scan), so filtered queries still return k rows.
CREATE EXTENSION IF NOT EXISTS vector;

-- One row per collection. A collection is bound to the model that created it and to that model's dimension, which
-- also names the items table its rows live in (collection_items_<dim>).
CREATE TABLE collections (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  account text NOT NULL,
  name text NOT NULL CHECK (name ~ '^[A-Za-z0-9_-]{1,64}$'),
  description text,
  model text NOT NULL,
  -- Only the dimensions that have an items table; adding one changes this check in the same migration.
  dim int NOT NULL CHECK (dim IN (128, 512, 768)),
  -- Kept by the service in the transaction that adds or removes the collection's items.
  item_count bigint NOT NULL DEFAULT 0 CHECK (item_count >= 0),
  created_at timestamptz NOT NULL DEFAULT now(),
  -- Soft delete: set when the collection is deleted, so it leaves every view at once (its name is free again);
  -- its items are purged afterwards in bounded batches, then the row itself.
  deleted_at timestamptz,
  -- The target of the items tables' (account, collection_id) foreign key: an item can only belong to a collection
  -- of its own account.
  UNIQUE (account, id)
);

-- One live collection per name and account; deleted ones keep their rows until purged without holding the name.
CREATE UNIQUE INDEX collections_account_name_live ON collections (account, name) WHERE deleted_at IS NULL;
-- What the purge looks for: deleted collections, oldest first.
CREATE INDEX collections_deleted ON collections (deleted_at) WHERE deleted_at IS NOT NULL;

-- Items: one table per supported dimension, because pgvector builds HNSW only on a column of fixed dimension
-- ("column does not have dimensions"). A dimension is a model family's embedding size: 128 (the embedded tiny CLIP),
-- 512 (CLIP ViT-B/32 and ViT-B/16), 768 (CLIP ViT-L/14). To support another, add a migration that creates
-- collection_items_<dim> exactly like these and widens collections' dim check.
--
-- The primary key (account, collection_id, id) serves upserts (ON CONFLICT), single reads, cursor pagination by id,
-- the foreign key's checks and the purge's batches. The foreign key has no ON DELETE CASCADE on purpose: a
-- collection's items are purged in bounded batches before its row is deleted, never in one huge transaction.
-- The HNSW index answers `ORDER BY embedding <=> $1 LIMIT k` (cosine distance; score = 1 - distance); the GIN index
-- (jsonb_path_ops) answers metadata containment filters, `metadata @> '{"color": "red"}'`.

CREATE TABLE collection_items_128 (
  account text NOT NULL,
  collection_id bigint NOT NULL,
  id text NOT NULL CHECK (char_length(id) BETWEEN 1 AND 128),
  embedding vector(128) NOT NULL,
  metadata jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (account, collection_id, id),
  FOREIGN KEY (account, collection_id) REFERENCES collections (account, id)
);
CREATE INDEX collection_items_128_embedding ON collection_items_128 USING hnsw (embedding vector_cosine_ops);
CREATE INDEX collection_items_128_metadata ON collection_items_128 USING gin (metadata jsonb_path_ops);

CREATE TABLE collection_items_512 (
  account text NOT NULL,
  collection_id bigint NOT NULL,
  id text NOT NULL CHECK (char_length(id) BETWEEN 1 AND 128),
  embedding vector(512) NOT NULL,
  metadata jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (account, collection_id, id),
  FOREIGN KEY (account, collection_id) REFERENCES collections (account, id)
);
CREATE INDEX collection_items_512_embedding ON collection_items_512 USING hnsw (embedding vector_cosine_ops);
CREATE INDEX collection_items_512_metadata ON collection_items_512 USING gin (metadata jsonb_path_ops);

CREATE TABLE collection_items_768 (
  account text NOT NULL,
  collection_id bigint NOT NULL,
  id text NOT NULL CHECK (char_length(id) BETWEEN 1 AND 128),
  embedding vector(768) NOT NULL,
  metadata jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (account, collection_id, id),
  FOREIGN KEY (account, collection_id) REFERENCES collections (account, id)
);
CREATE INDEX collection_items_768_embedding ON collection_items_768 USING hnsw (embedding vector_cosine_ops);
CREATE INDEX collection_items_768_metadata ON collection_items_768 USING gin (metadata jsonb_path_ops);

-- What each account stores, for the plan limits (collections and items per account). Updated in the same
-- transaction as the rows it counts, with a conditional UPDATE … WHERE collections < $limit (or an upsert), never a
-- read followed by a write, so concurrent requests cannot both pass the limit.
CREATE TABLE account_storage (
  account text PRIMARY KEY,
  collections int NOT NULL DEFAULT 0 CHECK (collections >= 0),
  items bigint NOT NULL DEFAULT 0 CHECK (items >= 0)
);
