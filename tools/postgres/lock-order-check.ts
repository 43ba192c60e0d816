// `node tools/postgres/lock-order-check.ts --url postgres://USER@HOST:PORT/DB` — races the collections' writes
// (upserts, item deletes, collection deletes) on a REAL Postgres, which local PGlite cannot do (it runs one
// transaction at a time), and prints deadlocks and counter drift. It wipes the database's public schema: point it at
// a scratch database. pgvector is not needed: `vector` is emulated as a text domain, and no search runs.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import postgres from "postgres";
import { CollectionStore, Refusal } from "../../workers/services/collections/collection-store.ts";
import { ItemStore } from "../../workers/services/collections/item-store.ts";

const { values } = parseArgs({
  options: { url: { type: "string" }, rounds: { type: "string", default: "5" } },
});
if (!values.url) {
  console.error("usage: node tools/postgres/lock-order-check.ts --url postgres://USER@HOST:PORT/SCRATCH_DB");
  process.exit(2);
}
const sql = postgres(values.url, { prepare: false, fetch_types: false, max: 20, onnotice: () => {} });
const schema = readFileSync(
  new URL("../../migrations/postgres/0001_collections.sql", import.meta.url),
  "utf8",
)
  .replace("CREATE EXTENSION IF NOT EXISTS vector;", "CREATE DOMAIN vector AS text;")
  .replace(/vector\(\d+\)/g, "vector")
  .replace(/^CREATE INDEX \S+ ON \S+ USING hnsw .*$/gm, "");
await sql.unsafe("DROP SCHEMA public CASCADE; CREATE SCHEMA public;");
await sql.unsafe(schema);

const store = new CollectionStore(sql);
const account = "lock-order-check";
const unit = Array.from({ length: 128 }, (_, i) => (i === 0 ? 1 : 0));
const errors = new Map<string, number>();
for (let round = 0; round < Number(values.rounds); round++) {
  const created = await store.create(account, `c${round}`, { description: null, model: "m", dim: 128 }, 1000);
  if (created.kind !== "created") throw new Error(`create: ${created.kind}`);
  const items = new ItemStore(sql, created.collection);
  const writes: Promise<unknown>[] = [];
  for (let i = 0; i < 30; i++)
    writes.push(
      items.upsert(
        [0, 1, 2, 3, 4].map((j) => ({ id: `i${(i * 3 + j) % 60}`, vector: unit, metadata: {} })),
        1e9,
      ),
    );
  for (let i = 0; i < 15; i++) writes.push(items.delete([`i${(i * 7) % 60}`, `i${(i * 11) % 60}`]));
  if (round % 2 === 1) writes.push(store.remove(account, `c${round}`));
  for (const outcome of await Promise.allSettled(writes))
    if (outcome.status === "rejected" && !(outcome.reason instanceof Refusal)) {
      const message = String((outcome.reason as Error)?.message ?? outcome.reason);
      errors.set(message, (errors.get(message) ?? 0) + 1);
    }
}
const [storage] = await sql.unsafe("SELECT items::int AS items FROM account_storage WHERE account = $1", [
  account,
]);
const drift = await sql.unsafe(
  `SELECT c.name, c.item_count::int AS counted,
     (SELECT count(*)::int FROM collection_items_128 i WHERE i.collection_id = c.id) AS actual
   FROM collections c WHERE c.account = $1 AND c.deleted_at IS NULL`,
  [account],
);
const live = drift.reduce((sum, row) => sum + Number(row.actual), 0);
console.log({
  errors: Object.fromEntries(errors),
  accountItems: storage?.items,
  liveItems: live,
  collections: drift,
});
await sql.end();
process.exit(
  errors.size === 0 && storage?.items === live && drift.every((r) => r.counted === r.actual) ? 0 : 1,
);
