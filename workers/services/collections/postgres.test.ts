// The collections' storage through the real HYPERDRIVE binding, against the real local Postgres (PGlite with pgvector,
// migrated by the global setup): the SQL patterns the collections service relies on.
import { env } from "cloudflare:workers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openSqlClient, type SqlClient } from "./sql-client.ts";

const DIM = 128;
// The database lives for the whole run and other files share it: this file's rows are under an account of its own,
// in a table of its own shaped exactly like collection_items_128 (its indexes too). In the shared table, other
// files' rows can leave three far-off vectors unreachable in the HNSW graph (an outlier's neighbours prune it from
// their lists), and a raw index scan then finds none of them: a flake no product search has, since the store falls
// back to an exact scan (stores.test.ts).
const ACCOUNT = `postgres-test-${crypto.randomUUID()}`;
const ITEMS = `postgres_test_items_${crypto.randomUUID().replaceAll("-", "")}`;

/** A unit vector of DIM dimensions pointing between the first two axes, `angle` degrees from the first. */
function unitVector(angleDegrees: number): number[] {
  const radians = (angleDegrees * Math.PI) / 180;
  const v = new Array<number>(DIM).fill(0);
  v[0] = Math.cos(radians);
  v[1] = Math.sin(radians);
  return v;
}

/** Item metadata is a flat object (issue 11's API). */
type Metadata = Record<string, string | number | boolean>;

/** pgvector's text form, `[0.1,0.2,…]`: how a vector goes out with `fetch_types: false`. */
const vectorText = (v: number[]) => `[${v.join(",")}]`;

let client: SqlClient;
let collectionId: string;

beforeAll(async () => {
  client = openSqlClient(env.HYPERDRIVE);
  await client.sql.unsafe(`CREATE TABLE ${ITEMS} (LIKE collection_items_128 INCLUDING ALL)`);
  const [row] = await client.sql.unsafe(
    `INSERT INTO collections (account, name, model, dim) VALUES ($1, 'shapes', 'tiny-clip', $2) RETURNING id`,
    [ACCOUNT, DIM],
  );
  collectionId = String(row?.id);
});

afterAll(async () => {
  await client.sql.unsafe(`DROP TABLE IF EXISTS ${ITEMS}`);
  await client.close();
});

describe("Postgres through Hyperdrive", () => {
  it("connects to PGlite with pgvector ≥ 0.8", async () => {
    const [row] = await client.sql.unsafe(
      "SELECT extversion AS version FROM pg_extension WHERE extname = 'vector'",
    );
    expect(row?.version).toMatch(/^0\.(8|9|\d{2,})\./);
  });

  it("inserts a batch sent as one jsonb value, unpacked by jsonb_to_recordset", async () => {
    const items = [
      { id: "red-circle", embedding: unitVector(0), metadata: { colour: "red", shape: "circle", count: 1 } },
      { id: "blue-star", embedding: unitVector(90), metadata: { colour: "blue", shape: "star", count: 3 } },
      { id: "red-star", embedding: unitVector(30), metadata: { colour: "red", shape: "star", count: 2 } },
    ];
    const inserted = await client.sql.unsafe(
      `INSERT INTO ${ITEMS} (account, collection_id, id, embedding, metadata)
       SELECT $1, $2, item.id, item.embedding::vector, item.metadata
       FROM jsonb_to_recordset($3::jsonb) AS item (id text, embedding text, metadata jsonb)
       ON CONFLICT (account, collection_id, id)
       DO UPDATE SET embedding = excluded.embedding, metadata = excluded.metadata, updated_at = now()
       RETURNING id`,
      [ACCOUNT, collectionId, client.sql.json(items)],
    );
    expect(inserted.map((row) => row.id).sort()).toEqual(["blue-star", "red-circle", "red-star"]);
  });

  it("finds the nearest by cosine through HNSW, best first", async () => {
    const [index] = await client.sql.unsafe(
      "SELECT indexname AS name FROM pg_indexes WHERE tablename = $1 AND indexdef LIKE '%USING hnsw%'",
      [ITEMS],
    );
    expect(await plan(unitVector(10), 3)).toContain(`Index Scan using ${index?.name} on ${ITEMS}`);
    const matches = await nearest(unitVector(10), 3);
    expect(matches.map((m) => m.id)).toEqual(["red-circle", "red-star", "blue-star"]);
    expect(matches[0]?.score).toBeCloseTo(Math.cos((10 * Math.PI) / 180), 5);
  });

  it("filters on metadata by containment (metadata @> $1::jsonb) before the top k", async () => {
    const red = await nearest(unitVector(90), 10, { colour: "red" });
    expect(red.map((m) => m.id)).toEqual(["red-star", "red-circle"]);
    const stars = await nearest(unitVector(0), 1, { shape: "star" });
    expect(stars.map((m) => m.id)).toEqual(["red-star"]);
  });

  it("keeps the search's settings inside its transaction (every connection shares PGlite's one session)", async () => {
    await nearest(unitVector(0), 1);
    const [setting] = await client.sql.unsafe("SELECT current_setting('hnsw.iterative_scan') AS value");
    expect(setting?.value).toBe("off");
  });
});

const NEAREST_SQL = `
  WITH nearest AS MATERIALIZED (
    SELECT id, embedding <=> $1::vector AS distance
    FROM ${ITEMS}
    WHERE account = $2 AND collection_id = $3 AND metadata @> $4::jsonb
    ORDER BY embedding <=> $1::vector
    LIMIT $5
  )
  SELECT id, 1 - distance AS score FROM nearest ORDER BY distance`;

/**
 * A top-k search the way the collections service runs it: in a transaction, so its SET LOCALs end with it; iterative
 * scans, so a filter still gets k rows; a custom plan, so the HNSW index is used; relaxed order re-sorted outside.
 * `enable_sort = off` is this test's own: for 3 rows the planner rightly reads them by primary key and sorts (exact),
 * and the test is about the HNSW path.
 */
async function search<T>(query: number[], k: number, filter: Metadata, sql: string): Promise<T[]> {
  const rows = await client.sql.begin(async (tx) => {
    await tx.unsafe("SET LOCAL hnsw.iterative_scan = relaxed_order");
    await tx.unsafe("SET LOCAL plan_cache_mode = force_custom_plan");
    await tx.unsafe("SET LOCAL enable_sort = off");
    return tx.unsafe(sql, [vectorText(query), ACCOUNT, collectionId, client.sql.json(filter), k]);
  });
  return rows as unknown as T[];
}

async function nearest(query: number[], k: number, filter: Metadata = {}) {
  const rows = await search<{ id: string; score: number }>(query, k, filter, NEAREST_SQL);
  return rows.map((row) => ({ id: row.id, score: Number(row.score) }));
}

async function plan(query: number[], k: number): Promise<string> {
  const rows = await search<{ "QUERY PLAN": string }>(query, k, {}, `EXPLAIN ${NEAREST_SQL}`);
  return rows.map((row) => row["QUERY PLAN"]).join("\n");
}
