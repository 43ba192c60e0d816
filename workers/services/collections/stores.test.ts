// The collections' stores against the real local Postgres (PGlite + pgvector) through the real HYPERDRIVE binding.
import { env } from "cloudflare:workers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseFilter } from "../../../src/api/collections.ts";
import { CollectionStore } from "./collection-store.ts";
import { ItemStore } from "./item-store.ts";
import { openSqlClient, type SqlClient } from "./sql-client.ts";

const DIM = 128;
const MODEL = { model: "clip-edge/tiny-clip", dim: DIM, description: null };
let client: SqlClient;
let store: CollectionStore;
beforeAll(() => {
  client = openSqlClient(env.HYPERDRIVE);
  store = new CollectionStore(client.sql);
});
afterAll(() => client.close());

/** Accounts of their own: the database is shared by every file of the run. */
/** The plane of the fallback test's 612 rows: away from the rows other files search in the first two axes. */
const PLANE = 10;

const newAccount = () => `acct-${crypto.randomUUID()}`;

/**
 * A unit vector in the plane of axes `axis` and `axis + 1`, `degrees` from the first. Tests crowding the index use a
 * plane of their own: the table (and its HNSW graph) is shared with other files' rows in the first two axes.
 */
function unit(degrees: number, axis = 0): number[] {
  const v = new Array<number>(DIM).fill(0);
  v[axis] = Math.cos((degrees * Math.PI) / 180);
  v[axis + 1] = Math.sin((degrees * Math.PI) / 180);
  return v;
}

async function collectionWith(
  items: { id: string; degrees: number; metadata?: Record<string, string | number | boolean> }[],
  axis = 0,
) {
  const account = newAccount();
  const created = await store.create(account, "c", MODEL, 10);
  if (created.kind !== "created") throw new Error(created.kind);
  const items$ = new ItemStore(client.sql, created.collection);
  await items$.upsert(
    items.map((i) => ({ id: i.id, vector: unit(i.degrees, axis), metadata: i.metadata ?? {} })),
    1000,
  );
  return { account, collection: created.collection, items: items$ };
}

describe("CollectionStore", () => {
  it("creates once, then returns the same collection; lists by name with a cursor; removes from view at once", async () => {
    const account = newAccount();
    const first = await store.create(account, "photos", { ...MODEL, description: "mine" }, 10);
    expect(first).toMatchObject({
      kind: "created",
      collection: { name: "photos", description: "mine", dim: DIM, count: 0 },
    });
    const again = await store.create(account, "photos", MODEL, 10);
    expect(again.kind).toBe("exists");
    if (again.kind === "exists" && first.kind === "created")
      expect(again.collection.id).toBe(first.collection.id);
    await store.create(account, "albums", MODEL, 10);
    await store.create(account, "zoo", MODEL, 10);
    const page1 = await store.list(account, undefined, 2);
    expect(page1.map((c) => c.name)).toEqual(["albums", "photos"]);
    expect((await store.list(account, page1.at(-1)?.name, 2)).map((c) => c.name)).toEqual(["zoo"]);
    expect(await store.remove(account, "photos")).toBe(true);
    expect(await store.get(account, "photos")).toBeUndefined();
    expect(await store.remove(account, "photos")).toBe(false);
    // The name is free again, and the account's count went down: a new one fits.
    expect((await store.create(account, "photos", MODEL, 3)).kind).toBe("created");
  });

  it("never lets racing creates pass the account's limit", async () => {
    const account = newAccount();
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, (_, i) => store.create(account, `c${i}`, MODEL, 3)),
    );
    expect(outcomes.filter((o) => o.kind === "created")).toHaveLength(3);
    expect(outcomes.filter((o) => o.kind === "limit")).toHaveLength(5);
    expect(await store.list(account, undefined, 100)).toHaveLength(3);
  });

  it("keeps another account's collections out of sight", async () => {
    const [a, b] = [newAccount(), newAccount()];
    await store.create(a, "shared-name", MODEL, 10);
    expect(await store.get(b, "shared-name")).toBeUndefined();
    expect(await store.list(b, undefined, 10)).toEqual([]);
    expect(await store.remove(b, "shared-name")).toBe(false);
    expect(await store.get(a, "shared-name")).toBeDefined();
  });

  it("purges a deleted collection's items in bounded batches, then its row", async () => {
    const { account, items } = await collectionWith(
      Array.from({ length: 7 }, (_, i) => ({ id: `i${i}`, degrees: i })),
    );
    expect(await store.remove(account, "c")).toBe(true);
    let purged = 0;
    for (let step = 0; step < 20; step++) {
      const result = await store.purge(3);
      purged += result.items;
      expect(result.items).toBeLessThanOrEqual(3);
      if (!result.more) break;
    }
    expect(purged).toBeGreaterThanOrEqual(7);
    expect(await items.get("i0", false)).toBeUndefined();
  });
});

describe("ItemStore", () => {
  it("inserts, replaces in place, counts only new items, and deletes with the counts", async () => {
    const { account, items } = await collectionWith([
      { id: "a", degrees: 0, metadata: { colour: "red" } },
      { id: "b", degrees: 45 },
    ]);
    expect((await store.get(account, "c"))?.count).toBe(2);
    expect(await items.upsert([{ id: "a", vector: unit(90), metadata: { colour: "blue" } }], 1000)).toBe(0);
    const a = await items.get("a", true);
    expect(a?.metadata).toEqual({ colour: "blue" });
    expect(a?.embedding?.[1]).toBeCloseTo(1, 5);
    expect((await store.get(account, "c"))?.count).toBe(2);
    expect(await items.delete(["a", "nope"])).toBe(1);
    expect((await store.get(account, "c"))?.count).toBe(1);
    expect((await items.list(undefined, 10)).map((i) => i.id)).toEqual(["b"]);
  });

  it("never lets racing upserts pass the account's item limit, and a refused upsert writes nothing", async () => {
    const account = newAccount();
    const created = await store.create(account, "c", MODEL, 10);
    if (created.kind !== "created") throw new Error(created.kind);
    const items = new ItemStore(client.sql, created.collection);
    const outcomes = await Promise.allSettled(
      Array.from({ length: 6 }, (_, i) =>
        items.upsert(
          [0, 1].map((j) => ({ id: `r${i}-${j}`, vector: unit(i * 10 + j), metadata: {} })),
          7,
        ),
      ),
    );
    expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(3);
    expect((await items.list(undefined, 100)).length).toBe(6);
    expect((await store.get(account, "c"))?.count).toBe(6);
  });

  it("searches best first by cosine, with every filter operator applied before top-k", async () => {
    const { items } = await collectionWith([
      { id: "red-1", degrees: 0, metadata: { colour: "red", count: 1, big: true } },
      { id: "red-3", degrees: 20, metadata: { colour: "red", count: 3 } },
      { id: "blue-2", degrees: 40, metadata: { colour: "blue", count: 2, big: false } },
      { id: "green-5", degrees: 60, metadata: { colour: "green", count: 5 } },
      { id: "text-count", degrees: 80, metadata: { colour: "grey", count: "many" } },
    ]);
    const ids = async (filter: Record<string, unknown>, k = 10) =>
      (await items.search(unit(0), { k, conditions: parseFilter(filter) })).map((m) => m.id);
    expect(await ids({})).toEqual(["red-1", "red-3", "blue-2", "green-5", "text-count"]);
    expect(await ids({ colour: "red" })).toEqual(["red-1", "red-3"]);
    expect(await ids({ colour: { $ne: "red" } })).toEqual(["blue-2", "green-5", "text-count"]);
    expect(await ids({ colour: { $in: ["blue", "green"] } })).toEqual(["blue-2", "green-5"]);
    expect(await ids({ colour: { $nin: ["red", "grey"] } })).toEqual(["blue-2", "green-5"]);
    expect(await ids({ count: { $gte: 2 } })).toEqual(["red-3", "blue-2", "green-5"]);
    expect(await ids({ count: { $gt: 2, $lt: 5 } })).toEqual(["red-3"]);
    expect(await ids({ count: { $lte: 1 } })).toEqual(["red-1"]);
    expect(await ids({ big: true })).toEqual(["red-1"]);
    expect(await ids({ big: { $ne: true } })).toEqual(["red-3", "blue-2", "green-5", "text-count"]);
    expect(await ids({ colour: "red", count: { $gt: 1 } })).toEqual(["red-3"]);
    expect(await ids({ count: { $gte: 2 } }, 2)).toEqual(["red-3", "blue-2"]);
    const scored = await items.search(unit(0), { k: 2, conditions: [] });
    expect(scored[0]?.score).toBeCloseTo(1, 5);
    expect(scored[1]?.score).toBeCloseTo(Math.cos((20 * Math.PI) / 180), 5);
  });

  it("falls back to an exact scan when HNSW finds fewer than k, so a filtered query gets k whenever k exist", async () => {
    // 600 items near the query and 12 far ones, which only the filter lets through: HNSW's first 200 candidates
    // (ef_search) are all near ones, and an iterative scan allowed to visit a single row more stops short of the far
    // ones. On a table this small the planner would sort the collection exactly; enable_sort = off makes it take HNSW.
    const near = Array.from({ length: 600 }, (_, i) => ({ id: `near-${i}`, degrees: i / 100 }));
    const far = Array.from({ length: 12 }, (_, i) => ({
      id: `far-${i}`,
      degrees: 100 + i,
      metadata: { far: true },
    }));
    const { collection } = await collectionWith([...near, ...far], PLANE);
    const cramped = new ItemStore(client.sql, collection, {
      maxScanTuples: 1,
      settings: { enable_sort: "off" },
    });
    const options = { k: 10, conditions: parseFilter({ far: true }) };
    const ids = (matches: { id: string }[]) => matches.map((m) => m.id);
    // The case is real: HNSW alone comes back short.
    const approximate = await cramped.nearest(unit(0, PLANE), options, "approximate");
    expect(approximate.length).toBeLessThan(10);
    const expected = far.slice(0, 10).map((f) => f.id);
    expect(ids(await cramped.search(unit(0, PLANE), options))).toEqual(expected);
    expect(ids(await cramped.nearest(unit(0, PLANE), options, "exact"))).toEqual(expected);
    // Its rows leave the shared table and its HNSW graph, which other files search with pgvector's own settings.
    await cramped.delete([...near, ...far].map((item) => item.id));
  });

  it("leaves out the query's own item and anything under min_score", async () => {
    const { items } = await collectionWith([
      { id: "a", degrees: 0 },
      { id: "b", degrees: 30 },
      { id: "c", degrees: 80 },
    ]);
    const self = (await items.vectorOf("a")) as number[];
    expect((await items.search(self, { k: 2, conditions: [] })).map((m) => m.id)).toEqual(["a", "b"]);
    expect((await items.search(self, { k: 2, conditions: [], excludeId: "a" })).map((m) => m.id)).toEqual([
      "b",
      "c",
    ]);
    expect((await items.search(self, { k: 10, conditions: [], minScore: 0.5 })).map((m) => m.id)).toEqual([
      "a",
      "b",
    ]);
    expect(await items.vectorOf("missing")).toBeUndefined();
  });

  it("puts the query's own item first among items exactly as near (more like this)", async () => {
    const { items } = await collectionWith([
      { id: "copy", degrees: 10 },
      { id: "self", degrees: 10 },
      { id: "other", degrees: 40 },
    ]);
    const self = (await items.vectorOf("self")) as number[];
    const ids = async (firstId?: string) =>
      (await items.search(self, { k: 3, conditions: [], firstId })).map((m) => m.id);
    expect(await ids()).toEqual(["copy", "self", "other"]);
    expect(await ids("self")).toEqual(["self", "copy", "other"]);
  });
});
