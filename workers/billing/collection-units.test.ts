import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { CSV_COLUMNS, newUsageRecordId, type UsageRecord } from "../../src/billing/index.ts";
import { admin, committed, createKey, edge } from "../../test/support/workers/billing.ts";
import { collectionsApp } from "../../test/support/workers/collections-app.ts";
import worker from "../index.ts";

// Item writes and queries through the whole ledger: the key's Durable Object, the export to D1, the CSV and JSON
// billing export, and /v1/usage — exactly, with the pro prices of the test plans (image 400, text computed 20,
// item write 10, query 20 micro-USD).

async function deliver(bodies: unknown[]) {
  const batch = createMessageBatch(
    "clip-edge-usage-export",
    bodies.map((body, i) => ({ id: `msg-${i}`, timestamp: Date.now(), attempts: 1, body })),
  );
  const ctx = createExecutionContext();
  await worker.queue?.(batch, env, ctx);
  return getQueueResult(batch, ctx);
}

async function rowsInD1(keyId: string): Promise<UsageRecord[]> {
  const { results } = await env.DB.prepare(
    "SELECT * FROM usage_records WHERE key_id = ? ORDER BY created_at, id",
  )
    .bind(keyId)
    .all<UsageRecord>();
  return results;
}

/** A collection created, 3 items upserted (2 of them images, 1 failing alone), and 2 text queries. */
async function useCollections() {
  const created = await createKey({ plan: "wide" });
  const app = collectionsApp();
  expect((await app.create(created.key, "photos")).status).toBe(201);
  expect((await app.upsert(created.key, "photos", { items: 4, images: 2, failed: 1 })).status).toBe(200);
  for (let i = 0; i < 2; i++) expect((await app.query(created.key, "photos")).status).toBe(200);
  const records = (await committed(created.id)).records.map(({ export_state: _, ...record }) => record);
  return { ...created, records };
}

const today = () => new Date().toISOString().slice(0, 10);

describe("item writes and queries in the ledger", () => {
  it("are committed in the key's records and counters, priced by the plan", async () => {
    const { id, records } = await useCollections();
    expect(
      records.map(({ route, requests, images, texts_computed, item_writes, queries, cost_micros }) => ({
        route,
        requests,
        images,
        texts_computed,
        item_writes,
        queries,
        cost_micros,
      })),
    ).toEqual([
      {
        route: "/v1/collections/{name}",
        requests: 1,
        images: 0,
        texts_computed: 0,
        item_writes: 0,
        queries: 0,
        cost_micros: 0,
      },
      {
        route: "/v1/collections/{name}/items",
        requests: 1,
        images: 2,
        texts_computed: 0,
        item_writes: 3,
        queries: 0,
        cost_micros: 2 * 400 + 3 * 10,
      },
      {
        route: "/v1/collections/{name}/query",
        requests: 1,
        images: 0,
        texts_computed: 1,
        item_writes: 0,
        queries: 1,
        cost_micros: 20 + 20,
      },
      {
        route: "/v1/collections/{name}/query",
        requests: 1,
        images: 0,
        texts_computed: 1,
        item_writes: 0,
        queries: 1,
        cost_micros: 20 + 20,
      },
    ]);
    expect((await committed(id)).month).toEqual({
      requests: 4,
      images: 2,
      texts: 2,
      item_writes: 3,
      queries: 2,
      cost_micros: 910,
    });
  });

  it("are exported to D1 as they were committed", async () => {
    const { id, records } = await useCollections();
    const result = await deliver(records);
    expect(result.retryMessages).toEqual([]);
    expect(await rowsInD1(id)).toEqual(records);
  });

  it("read as 0 in a record committed before they existed, still in a key's outbox or in the queue", async () => {
    const { records } = await useCollections();
    // The shape records had before; under a key of its own, so the object's own export cannot deliver it first.
    const { item_writes: _w, queries: _q, ...upsert } = records[1] as UsageRecord;
    const old = { ...upsert, id: newUsageRecordId(), key_id: `key_old_${crypto.randomUUID()}` };
    const result = await deliver([old]);
    expect(result.explicitAcks).toEqual(["msg-0"]);
    expect(await rowsInD1(old.key_id)).toEqual([{ ...old, item_writes: 0, queries: 0 }]);
  });

  it("appear in /v1/usage: by day and route template, in the totals, and against this month's quota", async () => {
    const { key, records } = await useCollections();
    const response = await edge(`/v1/usage?from=${today()}&to=${today()}`, { key });
    expect(response.status).toBe(200);
    const report = (await response.json()) as {
      data: Record<string, unknown>[];
      totals: Record<string, unknown>;
      quota: Record<string, unknown>;
    };
    const row = (route: string, units: Record<string, number>, cost: string) => ({
      day: today(),
      route,
      requests: 1,
      images: 0,
      texts_computed: 0,
      texts_cached: 0,
      item_writes: 0,
      queries: 0,
      ...units,
      cost,
    });
    expect(report.data).toEqual([
      row("/v1/collections/{name}", { cost_micros: 0 }, "0.000000"),
      row("/v1/collections/{name}/items", { images: 2, item_writes: 3, cost_micros: 830 }, "0.000830"),
      row(
        "/v1/collections/{name}/query",
        { requests: 2, texts_computed: 2, queries: 2, cost_micros: 80 },
        "0.000080",
      ),
    ]);
    expect(report.totals).toEqual({
      requests: 4,
      images: 2,
      texts_computed: 2,
      texts_cached: 0,
      item_writes: 3,
      queries: 2,
      cost_micros: 910,
      cost: "0.000910",
    });
    expect(report.quota).toMatchObject({
      images: { used: 2, limit: 1_000_000 },
      texts: { used: 2, limit: 1_000_000 },
      item_writes: { used: 3, limit: 1_000_000 },
      queries: { used: 2, limit: 1_000_000 },
    });
    expect(records.reduce((n, r) => n + r.cost_micros, 0)).toBe(910);
  });

  it("appear in /admin/usage: JSON totals and CSV columns", async () => {
    const { account, records } = await useCollections();
    await deliver(records);
    const json = await admin(`/admin/usage?account=${account}&from=${today()}&to=${today()}`);
    expect(json.status).toBe(200);
    const body = (await json.json()) as { totals: Record<string, unknown>; data: UsageRecord[] };
    expect(body.totals).toEqual({
      records: 4,
      requests: 4,
      images: 2,
      texts_computed: 2,
      texts_cached: 0,
      item_writes: 3,
      queries: 2,
      cost_micros: 910,
      cost: "0.000910",
    });
    expect(body.data.map((r) => [r.item_writes, r.queries])).toEqual([
      [0, 0],
      [3, 0],
      [0, 1],
      [0, 1],
    ]);

    const csv = await admin(`/admin/usage?account=${account}&format=csv`);
    const [header, ...lines] = (await csv.text()).trimEnd().split("\r\n");
    expect(header).toBe(CSV_COLUMNS.join(","));
    const columns = (header ?? "").split(",");
    const cells = lines.map((line) => Object.fromEntries(line.split(",").map((v, i) => [columns[i], v])));
    expect(cells.map((c) => [c.route, c.images, c.item_writes, c.queries, c.cost_micros, c.cost])).toEqual([
      ["/v1/collections/{name}", "0", "0", "0", "0", "0.000000"],
      ["/v1/collections/{name}/items", "2", "3", "0", "830", "0.000830"],
      ["/v1/collections/{name}/query", "0", "0", "1", "40", "0.000040"],
      ["/v1/collections/{name}/query", "0", "0", "1", "40", "0.000040"],
    ]);
  });
});
