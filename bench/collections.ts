/**
 * npm run bench:collections — the collections' stores (CollectionStore, ItemStore over postgres.js, exactly as the
 * Worker uses them) against a real Postgres with pgvector: PGlite, started here on a free port in a thread of its
 * own, with migrations/postgres/ applied. Not a test: it prints tables and ratios and asserts nothing about time.
 *
 * For each dimension and size, side by side in one run:
 * - writes: a bulk load in batches of 64 with the HNSW index dropped, the index's build (its definition read back
 *   from the migrated schema), then upserts in batches of 64 into the indexed table (a second account's collection);
 * - storage: the table, its TOAST, and each index in bytes per item (pg_relation_size), extrapolated to a million;
 * - queries: top-10 p50/p95 with no filter, a 5% and a 50% one, through ItemStore's own two modes — HNSW with
 *   iterative scans (plus the exact fallback when it finds fewer than k, as `search` does) and the exact scan —
 *   recall@10 of the first against the second, and the plan Postgres chose; for the large collection, and for the
 *   small second one sharing its table.
 * Data: a mixture of gaussians on the unit sphere, each varying along `--rank` directions (0: all of them, the
 * hardest case for an index); metadata independent of it (bench/support/clustered-vectors.ts).
 *
 * Usage: node bench/collections.ts [--sizes 1000,10000] [--dim 512,128] [--queries 100] [--tenant 1000]
 *   [--clusters 100] [--rank 32] [--build-mem 1GB] [--data-dir DIR] [--ef-search 40,100,200]
 * `--ef-search` also replays each large-collection query with other `hnsw.ef_search` values (the store uses 200 for
 * k = 10) and reports their latency and recall.
 * 100,000 items is opt-in (`--sizes 100000 --dim 512`); docs/benchmarks.md says how long it takes.
 */
import { parseArgs } from "node:util";
import postgres from "postgres";
import { type FilterCondition, parseFilter } from "../src/api/collections.ts";
import {
  type CollectionRow,
  CollectionStore,
  itemsTable,
} from "../workers/services/collections/collection-store.ts";
import { ItemStore, type ItemToWrite } from "../workers/services/collections/item-store.ts";
import { BENCH_FILTERS, benchMetadata, clusteredVectors, type Mixture } from "./support/clustered-vectors.ts";
import { describeMachine } from "./support/machine.ts";
import { startPostgresThread } from "./support/postgres-thread.ts";
import { statementProbe } from "./support/statement-probe.ts";

const { values } = parseArgs({
  options: {
    sizes: { type: "string", default: "1000,10000" },
    dim: { type: "string", default: "512,128" },
    queries: { type: "string", default: "100" },
    tenant: { type: "string", default: "1000" },
    clusters: { type: "string", default: "100" },
    rank: { type: "string", default: "32" },
    "build-mem": { type: "string", default: "1GB" },
    "ef-search": { type: "string", default: "" },
    "data-dir": { type: "string" },
  },
});
const list = (text: string) => text.split(",").map((s) => Number(s.trim()));
const sizes = list(values.sizes).sort((a, b) => a - b);
const dims = list(values.dim);
const queryCount = Number(values.queries);
const tenantSize = Math.max(64, Number(values.tenant));
const clusters = Number(values.clusters);
const rank = Number(values.rank);
const efSearches = values["ef-search"] ? list(values["ef-search"]) : [];
if (!/^\d+(kB|MB|GB)$/.test(values["build-mem"])) throw new Error("--build-mem: e.g. 512MB or 1GB");
const K = 10;
const BATCH = 64;
// Plan limits high enough never to refuse (account_storage.collections is an int, items a bigint).
const NO_COLLECTION_LIMIT = 2 ** 31 - 1;
const NO_ITEM_LIMIT = Number.MAX_SAFE_INTEGER;
const SEED = 20261127;

/** As workers/services/collections/sql-client.ts opens its client (which needs the Workers' types). */
const CLIENT_OPTIONS = { prepare: false, fetch_types: false, max: 3, connect_timeout: 10 } as const;

const log = (line: string) => console.error(`[bench:collections] ${line}`);
const seconds = (from: number) => (performance.now() - from) / 1000;
const runStarted = performance.now();
const database = await startPostgresThread(values["data-dir"]);
const sql = postgres(database.url, CLIENT_OPTIONS);
const probe = statementProbe(database.url, CLIENT_OPTIONS);
const stores = new CollectionStore(sql);
const [versions] = await sql.unsafe(
  "SELECT current_setting('server_version') AS pg, (SELECT extversion FROM pg_extension WHERE extname = 'vector') AS vector",
);

// The fixed cost under every query: one round trip, and a search's transaction shape without its query (BEGIN, the
// store's one settings statement, COMMIT), so the tables' milliseconds can be split into protocol and search.
const roundTrip = percentiles(await timed(100, () => sql.unsafe("SELECT 1")));
const emptySearch = percentiles(
  await timed(100, () =>
    sql.begin(async (tx) => {
      await tx.unsafe(
        `SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true), set_config('hnsw.ef_search', '200', true),
          set_config('hnsw.max_scan_tuples', '20000', true)`,
      );
    }),
  ),
);

interface WriteRow {
  dim: number;
  items: number;
  bulkPerSecond: number;
  buildSeconds: number;
  indexedPerSecond: number;
}
interface StorageRow {
  dim: number;
  items: number;
  bytes: Record<"heap" | "toast" | "hnsw" | "gin" | "pkey", number>;
}
interface QueryRow {
  dim: number;
  collection: string;
  filter: string;
  passing: number;
  plan: string;
  hnsw: { p50: number; p95: number };
  exact: { p50: number; p95: number };
  recall: number;
  hnswOnlyRecall: number;
  fallbacks: number;
  /** With `--ef-search`: the same queries' HNSW pass replayed at other `hnsw.ef_search` values. */
  sweep: { efSearch: number; p50: number; p95: number; recall: number }[];
}
const writes: WriteRow[] = [];
const storage: StorageRow[] = [];
const queries: QueryRow[] = [];
const durations: string[] = [];

for (const dim of dims) {
  const table = itemsTable(dim);
  const mixture = clusteredVectors(dim, { clusters, spread: 1, rank, seed: SEED + dim });
  const tenantMixture = clusteredVectors(dim, { clusters, spread: 1, rank, seed: SEED + dim + 1 });
  for (const size of sizes) {
    const started = performance.now();
    await sql.unsafe(`TRUNCATE ${table}`);
    const main = await createCollection(`bench-${dim}-${size}`, dim);
    const mainItems = new ItemStore(sql, main);

    const [index] = await sql.unsafe("SELECT indexdef FROM pg_indexes WHERE indexname = $1", [
      `${table}_embedding`,
    ]);
    if (!index) throw new Error(`${table}_embedding is not in the migrated schema`);
    await sql.unsafe(`DROP INDEX ${table}_embedding`);
    let t = performance.now();
    await load(mainItems, mixture, SEED, 0, size, (done) => log(`${dim}-d: loaded ${done} of ${size}`));
    const bulkPerSecond = size / seconds(t);
    t = performance.now();
    await sql.begin(async (tx) => {
      // Below the graph's size the build spills to disk and slows many times over (pgvector warns as much).
      await tx.unsafe(`SET LOCAL maintenance_work_mem = '${values["build-mem"]}'`);
      await tx.unsafe(String(index.indexdef));
    });
    const buildSeconds = seconds(t);
    await sql.unsafe(`ANALYZE ${table}`);
    log(
      `${dim}-d, ${size}: bulk ${bulkPerSecond.toFixed(0)} items/s, HNSW built in ${buildSeconds.toFixed(1)} s`,
    );
    storage.push({ dim, items: size, bytes: await relationBytes(table) });

    const mainQueries = Array.from({ length: queryCount }, (_, i) => mixture.vector(1_000_000_000 + i));
    const mainMetadata = Array.from({ length: size }, (_, i) => benchMetadata(SEED, i));
    for (const f of BENCH_FILTERS)
      queries.push(
        await measureQueries(main, size.toLocaleString("en-US"), f, mainQueries, mainMetadata, efSearches),
      );

    // A second account's small collection, upserted into the indexed table: what the API does for every upsert.
    const tenant = await createCollection(`tenant-${dim}-${size}`, dim);
    const tenantItems = new ItemStore(sql, tenant);
    t = performance.now();
    await load(tenantItems, tenantMixture, SEED + 1, 0, tenantSize);
    const indexedPerSecond = tenantSize / seconds(t);
    await sql.unsafe(`ANALYZE ${table}`);
    writes.push({ dim, items: size, bulkPerSecond, buildSeconds, indexedPerSecond });
    log(`${dim}-d, ${size}: ${indexedPerSecond.toFixed(1)} items/s upserted into the indexed table`);
    const tenantQueries = Array.from({ length: queryCount }, (_, i) =>
      tenantMixture.vector(1_000_000_000 + i),
    );
    const tenantMetadata = Array.from({ length: tenantSize }, (_, i) => benchMetadata(SEED + 1, i));
    const label = `${tenantSize.toLocaleString("en-US")} of ${(size + tenantSize).toLocaleString("en-US")}`;
    for (const f of BENCH_FILTERS)
      queries.push(await measureQueries(tenant, label, f, tenantQueries, tenantMetadata, []));
    durations.push(`${dim}-d × ${size.toLocaleString("en-US")}: ${seconds(started).toFixed(0)} s`);
  }
}

await probe.end();
await sql.end({ timeout: 5 });
await database.stop();
report();

async function createCollection(account: string, dim: number): Promise<CollectionRow> {
  const outcome = await stores.create(
    account,
    "photos",
    { description: null, model: "bench", dim },
    NO_COLLECTION_LIMIT,
  );
  if (outcome.kind === "limit") throw new Error("unreachable: no collection limit in the bench");
  return outcome.collection;
}

/** Upserts items [from, to) of a mixture in the API's largest batches, one after another. */
async function load(
  store: ItemStore,
  mixture: Mixture,
  metadataSeed: number,
  from: number,
  to: number,
  progress?: (done: number) => void,
): Promise<void> {
  for (let start = from; start < to; start += BATCH) {
    const batch: ItemToWrite[] = [];
    for (let i = start; i < Math.min(to, start + BATCH); i++)
      batch.push({ id: `item-${i}`, vector: mixture.vector(i), metadata: benchMetadata(metadataSeed, i) });
    await store.upsert(batch, NO_ITEM_LIMIT);
    if (progress && (start / BATCH) % 160 === 159) progress(start + BATCH);
  }
}

async function relationBytes(table: string): Promise<StorageRow["bytes"]> {
  const [row] = await sql.unsafe(
    `SELECT pg_relation_size(c.oid)::text AS heap, pg_relation_size(c.reltoastrelid)::text AS toast,
       pg_relation_size($2::regclass)::text AS hnsw, pg_relation_size($3::regclass)::text AS gin,
       pg_relation_size($4::regclass)::text AS pkey
     FROM pg_class c WHERE c.oid = $1::regclass`,
    [table, `${table}_embedding`, `${table}_metadata`, `${table}_pkey`],
  );
  if (!row) throw new Error(`no relation ${table}`);
  const n = (key: string) => Number(row[key] ?? 0);
  return { heap: n("heap"), toast: n("toast"), hnsw: n("hnsw"), gin: n("gin"), pkey: n("pkey") };
}

/** ItemStore's two search modes, as `search` runs them. */
function nearest(
  store: ItemStore,
  vector: Float32Array,
  conditions: FilterCondition[],
  mode: "approximate" | "exact",
) {
  return store.nearest(vector, { k: K, conditions }, mode);
}

async function measureQueries(
  row: CollectionRow,
  collection: string,
  { name, filter, passes }: (typeof BENCH_FILTERS)[number],
  vectors: Float32Array[],
  metadata: readonly Record<string, unknown>[],
  sweepEfSearch: readonly number[],
): Promise<QueryRow> {
  const store = new ItemStore(sql, row);
  const conditions = parseFilter(filter);
  const passing = metadata.filter((m) => passes(m as never)).length;
  // Warm-up, not recorded: the first queries after a build or a load pay for page and plan caches.
  for (const v of vectors.slice(0, 5)) {
    await nearest(store, v, conditions, "approximate");
    await nearest(store, v, conditions, "exact");
  }
  const hnswMs: number[] = [];
  const exactMs: number[] = [];
  let recall = 0;
  let hnswOnlyRecall = 0;
  let fallbacks = 0;
  const truths: Set<string>[] = [];
  for (const v of vectors) {
    let t = performance.now();
    const approximate = await nearest(store, v, conditions, "approximate");
    const approximateMs = performance.now() - t;
    t = performance.now();
    const exact = await nearest(store, v, conditions, "exact");
    exactMs.push(performance.now() - t);
    // `search`: the HNSW answer when it has k matches, else the exact scan's (its time added to the query's).
    const fellBack = approximate.length < K;
    if (fellBack) fallbacks++;
    hnswMs.push(approximateMs + (fellBack ? (exactMs.at(-1) as number) : 0));
    const truth = new Set(exact.map((m) => m.id));
    truths.push(truth);
    const found = approximate.filter((m) => truth.has(m.id)).length / Math.max(1, truth.size);
    hnswOnlyRecall += found;
    recall += fellBack ? 1 : found;
  }
  const first = vectors[0] as Float32Array;
  const probed = new ItemStore(probe.sql, row);
  const plan = await probe.explain(() => nearest(probed, first, conditions, "approximate"));
  const sweep: QueryRow["sweep"] = [];
  for (const efSearch of sweepEfSearch) {
    const ms: number[] = [];
    let found = 0;
    for (const [i, v] of vectors.entries()) {
      const replayed = await probe.replay(
        () => nearest(probed, v, conditions, "approximate"),
        [`SET LOCAL hnsw.ef_search = ${efSearch}`],
      );
      ms.push(replayed.ms);
      const truth = truths[i] as Set<string>;
      found += replayed.rows.filter((r) => truth.has(String(r.id))).length / Math.max(1, truth.size);
    }
    sweep.push({ efSearch, ...percentiles(ms), recall: found / vectors.length });
  }
  const result: QueryRow = {
    dim: row.dim,
    collection,
    filter: name,
    passing,
    plan,
    hnsw: percentiles(hnswMs),
    exact: percentiles(exactMs),
    recall: recall / vectors.length,
    hnswOnlyRecall: hnswOnlyRecall / vectors.length,
    fallbacks,
    sweep,
  };
  log(
    `${row.dim}-d, ${collection}, ${name}: HNSW p50 ${result.hnsw.p50.toFixed(1)} ms, exact p50 ${result.exact.p50.toFixed(1)} ms, recall ${result.recall.toFixed(3)}`,
  );
  return result;
}

async function timed(runs: number, work: () => Promise<unknown>): Promise<number[]> {
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await work();
    ms.push(performance.now() - t);
  }
  return ms;
}

function percentiles(ms: number[]): { p50: number; p95: number } {
  const sorted = [...ms].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number;
  return { p50: at(0.5), p95: at(0.95) };
}

function report(): void {
  const f1 = (x: number) => x.toFixed(1);
  console.log(
    `Collections benchmark — ${describeMachine()}, Node ${process.version}, ` +
      `PostgreSQL ${versions?.pg} (PGlite) with pgvector ${versions?.vector}; ${queryCount} queries per row, ` +
      `top-${K}; ${clusters} gaussian clusters on the sphere, ${rank ? `each along ${rank} directions` : "isotropic"}`,
  );
  console.log(
    `fixed cost per query: a round trip (SELECT 1) p50 ${f1(roundTrip.p50)} ms; a search's transaction without ` +
      `its query (BEGIN, its one settings statement, COMMIT) p50 ${f1(emptySearch.p50)} ms, p95 ${f1(emptySearch.p95)} ms\n`,
  );
  console.log("Writes (batches of 64 through ItemStore.upsert):\n");
  console.log(
    "| dim | items | bulk load, no HNSW (items/s) | HNSW build (s) | load + build (items/s) | upserts into the indexed table (items/s) | load + build ÷ indexed |",
  );
  console.log("|---|---|---|---|---|---|---|");
  for (const w of writes) {
    const loadAndBuild = w.items / (w.items / w.bulkPerSecond + w.buildSeconds);
    console.log(
      `| ${w.dim} | ${w.items.toLocaleString("en-US")} | ${w.bulkPerSecond.toFixed(0)} | ${f1(w.buildSeconds)} | ${loadAndBuild.toFixed(0)} | ${f1(w.indexedPerSecond)} | ${f1(loadAndBuild / w.indexedPerSecond)}× |`,
    );
  }
  console.log("\nStorage per item (pg_relation_size ÷ items, after the bulk load and the build):\n");
  console.log("| dim | items | heap | TOAST | HNSW | GIN metadata | primary key | total | per 1M items |");
  console.log("|---|---|---|---|---|---|---|---|---|");
  for (const s of storage) {
    const per = (bytes: number) => Math.round(bytes / s.items);
    const total = Object.values(s.bytes).reduce((a, b) => a + b, 0);
    console.log(
      `| ${s.dim} | ${s.items.toLocaleString("en-US")} | ${per(s.bytes.heap)} B | ${per(s.bytes.toast)} B | ${per(s.bytes.hnsw)} B | ${per(s.bytes.gin)} B | ${per(s.bytes.pkey)} B | ${per(total)} B | ${(((total / s.items) * 1e6) / 2 ** 30).toFixed(2)} GiB |`,
    );
  }
  console.log("\nQueries, top-10 (HNSW = the API's path: iterative scan, exact fallback below k; ms):\n");
  console.log(
    "| dim | collection (items) | filter | passing | HNSW p50 | HNSW p95 | exact p50 | exact p95 | exact ÷ HNSW (p50) | recall@10 | HNSW-only recall@10 | fallbacks | plan (HNSW path) |",
  );
  console.log("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
  for (const q of queries)
    console.log(
      `| ${q.dim} | ${q.collection} | ${q.filter} | ${q.passing.toLocaleString("en-US")} | ${f1(q.hnsw.p50)} | ${f1(q.hnsw.p95)} | ${f1(q.exact.p50)} | ${f1(q.exact.p95)} | ${f1(q.exact.p50 / q.hnsw.p50)}× | ${q.recall.toFixed(3)} | ${q.hnswOnlyRecall.toFixed(3)} | ${q.fallbacks}/${queryCount} | ${q.plan} |`,
    );
  if (efSearches.length > 0) {
    console.log(
      "\nHNSW at other ef_search values: the store's query replayed with one more SET LOCAL (one more round trip):\n",
    );
    console.log("| dim | collection (items) | filter | ef_search | p50 | p95 | recall@10 (HNSW only) |");
    console.log("|---|---|---|---|---|---|---|");
    for (const q of queries)
      for (const s of q.sweep)
        console.log(
          `| ${q.dim} | ${q.collection} | ${q.filter} | ${s.efSearch} | ${f1(s.p50)} | ${f1(s.p95)} | ${s.recall.toFixed(3)} |`,
        );
  }
  console.log(`\ntime: ${durations.join(", ")}; whole run ${seconds(runStarted).toFixed(0)} s`);
}
