// Collections and the bill: exact units under concurrency, quota refusals that leave nothing behind, idempotent
// retries, the background purge, and a collection made by another model.
import {
  createExecutionContext,
  createMessageBatch,
  createScheduledController,
  getQueueResult,
  waitOnExecutionContext,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import {
  billingEnv,
  call,
  committed,
  createKey,
  expectProblem,
  ok,
} from "../../test/support/workers/billing.ts";
import worker from "../index.ts";
import { openSqlClient } from "../services/collections/sql-client.ts";

type Json = Record<string, unknown>;
const DIM = 128;
const unit = (axis: number) => Array.from({ length: DIM }, (_, i) => (i === axis ? 1 : 0));

describe("collections and billing", () => {
  it("bills exactly the units the answers show, under concurrent upserts and queries", async () => {
    const { key, id } = await createKey({ plan: "wide" });
    await ok(await call(key, "PUT", "/v1/collections/c"), 201);
    const answers = await Promise.all([
      ...Array.from({ length: 6 }, (_, i) =>
        call(key, "POST", "/v1/collections/c/items", {
          items: [0, 1, 2].map((j) => ({ id: `i${i}-${j}`, embedding: unit(i * 3 + j) })),
        }),
      ),
      ...Array.from({ length: 6 }, (_, i) =>
        call(key, "POST", "/v1/collections/c/query", { embedding: unit(i), top_k: 3 }),
      ),
    ]);
    const usages = await Promise.all(answers.map(async (a) => (await ok<{ usage: Json }>(a)).usage));
    const sum = (unitName: string) => usages.reduce((total, u) => total + Number(u[unitName] ?? 0), 0);
    expect(sum("item_writes")).toBe(18);
    expect(sum("queries")).toBe(6);
    const { records, month } = await committed(id);
    const billed = records.filter((r) => r.route.startsWith("/v1/collections/{name}/"));
    expect(billed).toHaveLength(12);
    expect(billed.reduce((t, r) => t + r.item_writes, 0)).toBe(18);
    expect(billed.reduce((t, r) => t + r.queries, 0)).toBe(6);
    expect(month).toMatchObject({ item_writes: 18, queries: 6 });
    expect(await ok(await call(key, "GET", "/v1/collections/c"))).toMatchObject({ count: 18 });
  });

  it("puts usage in every answer: only the bulk delete of the management calls leaves a record, with no units", async () => {
    const { key, id } = await createKey({ plan: "wide" });
    const none = { images: 0, texts_computed: 0, texts_cached: 0, item_writes: 0, queries: 0 };
    const usageOf = async (response: Response, status = 200) =>
      (await ok<{ usage: Json }>(response, status)).usage;
    expect(await usageOf(await call(key, "PUT", "/v1/collections/m"), 201)).toEqual(none);
    expect(await usageOf(await call(key, "PUT", "/v1/collections/m"))).toEqual(none);
    const items = ["a", "b", "c"].map((itemId, i) => ({ id: itemId, embedding: unit(i) }));
    expect(await usageOf(await call(key, "POST", "/v1/collections/m/items", { items }))).toMatchObject({
      item_writes: 3,
    });
    for (const path of [
      "/v1/collections",
      "/v1/collections/m",
      "/v1/collections/m/items",
      "/v1/collections/m/items/a",
    ])
      expect(await usageOf(await call(key, "GET", path)), path).toEqual(none);
    expect(await usageOf(await call(key, "DELETE", "/v1/collections/m/items/a"))).toEqual(none);
    expect(
      await usageOf(await call(key, "POST", "/v1/collections/m/items/delete", { ids: ["b", "zz"] })),
    ).toEqual(none);
    expect(await usageOf(await call(key, "DELETE", "/v1/collections/m"))).toEqual(none);
    const { records } = await committed(id);
    const routes = records.map((r) => `${r.route} ${r.item_writes + r.queries + r.images}`).sort();
    expect(routes).toEqual(["/v1/collections/{name}/items 3", "/v1/collections/{name}/items/delete 0"]);
  });

  it("refuses an upsert past the month's item writes with nothing written, nothing billed", async () => {
    const { key, id } = await createKey({ plan: "tiny" });
    await ok(await call(key, "PUT", "/v1/collections/c"), 201);
    const items = Array.from({ length: 6 }, (_, i) => ({ id: `i${i}`, embedding: unit(i) }));
    await expectProblem(await call(key, "POST", "/v1/collections/c/items", { items }), 429, "quota_exceeded");
    expect(await ok(await call(key, "GET", "/v1/collections/c"))).toMatchObject({ count: 0 });
    expect((await committed(id)).month).toMatchObject({ item_writes: 0 });
    await ok(await call(key, "POST", "/v1/collections/c/items", { items: items.slice(0, 5) }));
    expect((await committed(id)).month).toMatchObject({ item_writes: 5 });
  });

  it("never lets racing creates pass the plan's collection limit, and refuses the rest with storage_limit_reached", async () => {
    const { key } = await createKey({ plan: "tiny" }); // 2 collections
    const answers = await Promise.all(
      ["a", "b", "c", "d", "e"].map((name) => call(key, "PUT", `/v1/collections/${name}`)),
    );
    expect(answers.filter((a) => a.status === 201)).toHaveLength(2);
    for (const refused of answers.filter((a) => a.status !== 201))
      await expectProblem(refused, 409, "storage_limit_reached");
    expect((await ok<{ data: Json[] }>(await call(key, "GET", "/v1/collections"))).data).toHaveLength(2);
  });

  it("answers a retried upsert with the same Idempotency-Key from the first, billed once", async () => {
    const { key, id } = await createKey({ plan: "wide" });
    await ok(await call(key, "PUT", "/v1/collections/c"), 201);
    const body = { items: [{ id: "x", embedding: unit(3) }] };
    const first = await call(key, "POST", "/v1/collections/c/items", body, { "idempotency-key": "upsert-1" });
    const again = await call(key, "POST", "/v1/collections/c/items", body, { "idempotency-key": "upsert-1" });
    expect(await again.text()).toBe(await first.text());
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect((await committed(id)).month).toMatchObject({ item_writes: 1 });
  });

  it("purges a deleted collection's items in the background, through its queue", async () => {
    const { key, account } = await createKey({ plan: "wide" });
    await ok(await call(key, "PUT", "/v1/collections/gone"), 201);
    await ok(
      await call(key, "POST", "/v1/collections/gone/items", {
        items: Array.from({ length: 5 }, (_, i) => ({ id: `i${i}`, embedding: unit(i) })),
      }),
    );
    await ok(await call(key, "DELETE", "/v1/collections/gone"));
    const batch = createMessageBatch("clip-edge-collection-purge", [
      { id: "m1", timestamp: new Date(), attempts: 1, body: { woken: 1 } },
    ]);
    const ctx = createExecutionContext();
    await worker.queue?.(batch, billingEnv, ctx);
    expect((await getQueueResult(batch, ctx)).ackAll).toBe(true);
    const client = openSqlClient(env.HYPERDRIVE);
    try {
      const [left] = await client.sql.unsafe(
        "SELECT count(*)::int AS n FROM collections WHERE account = $1 AND name = 'gone'",
        [account],
      );
      expect(left?.n).toBe(0);
    } finally {
      await client.close();
    }
  });

  it("wakes the purge from its cron trigger too, so a lost wake-up still gets a deleted collection purged", async () => {
    const { account } = await createKey({ plan: "wide" });
    const client = openSqlClient(env.HYPERDRIVE);
    const left = async () =>
      (await client.sql.unsafe("SELECT count(*)::int AS n FROM collections WHERE account = $1", [account]))[0]
        ?.n as number;
    try {
      // Deleted without a wake-up, as if the delete's message had been lost.
      await client.sql.unsafe(
        "INSERT INTO collections (account, name, model, dim, deleted_at) VALUES ($1, 'lost', 'm', 128, now())",
        [account],
      );
      expect(await left()).toBe(1);
      const ctx = createExecutionContext();
      await worker.scheduled?.(createScheduledController({ cron: "*/30 * * * *" }), billingEnv, ctx);
      await waitOnExecutionContext(ctx);
      // The queue delivers the wake-up to the real consumer; wait for its work, not for a time.
      await vi.waitFor(async () => expect(await left()).toBe(0), { timeout: 30_000, interval: 200 });
    } finally {
      await client.close();
    }
  });

  it("answers 409 model_mismatch for a collection another model made", async () => {
    const { key, account } = await createKey({ plan: "wide" });
    const client = openSqlClient(env.HYPERDRIVE);
    try {
      await client.sql.unsafe(
        "INSERT INTO collections (account, name, model, dim) VALUES ($1, 'other', 'openai/clip-vit-base-patch32', 512)",
        [account],
      );
    } finally {
      await client.close();
    }
    await expectProblem(await call(key, "GET", "/v1/collections/other"), 409, "model_mismatch");
    await expectProblem(
      await call(key, "POST", "/v1/collections/other/query", { text: "x" }),
      409,
      "model_mismatch",
    );
    await expectProblem(await call(key, "PUT", "/v1/collections/other"), 409, "model_mismatch");
  });
});
