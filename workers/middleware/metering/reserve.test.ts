import { runInDurableObject } from "cloudflare:test";
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { billingEnv, committed, expectProblem, meterOf } from "../../../test/support/workers/billing.ts";
import { collectionsApp } from "../../../test/support/workers/collections-app.ts";
import type { KeyMeter } from "../../billing/key-meter/index.ts";
import { heldUnits } from "../../billing/key-meter/reservations.ts";
import { servicesFor } from "../../services/index.ts";
import { billedRoute, precheckFor, routeTemplate } from "./billable-routes.ts";

function newKey(plan: string) {
  return servicesFor(billingEnv).billing.keys.create(
    { name: "reservation test", account: `acct-${crypto.randomUUID()}`, plan },
    Date.now(),
  );
}

function held(keyId: string) {
  return runInDurableObject(meterOf(keyId), (_instance: KeyMeter, state) =>
    heldUnits(state.storage.sql, Date.now()),
  );
}

const NOTHING_HELD = { images: 0, texts: 0, item_writes: 0, queries: 0 };

describe("route templates", () => {
  it("are Hono paths in the OpenAPI document's spelling", () => {
    expect(routeTemplate("/v1/collections/:name/items/:id")).toBe("/v1/collections/{name}/items/{id}");
    expect(routeTemplate("/v1/things/:id{[0-9]+}/:part?")).toBe("/v1/things/{id}/{part}");
    expect(routeTemplate("/v1/embeddings")).toBe("/v1/embeddings");
  });

  it("name the route that answers, before and after it runs, and find its precheck", async () => {
    const seen: string[] = [];
    const app = new Hono();
    app.use("/v1/*", async (c, next) => {
      seen.push(`before ${billedRoute(c)}`);
      await next();
      seen.push(`after ${billedRoute(c)}`);
    });
    app.use("/v1/collections/:name/*", (_c, next) => next());
    app.post("/v1/collections/:name/query", (c) => c.text("ok"));
    app.put("/v1/collections/:name", (c) => c.text("ok"));
    await app.request("/v1/collections/holiday-2026/query", { method: "POST" });
    await app.request("/v1/collections/holiday-2026", { method: "PUT" });
    await app.request("/v1/nothing-here", { method: "POST" });
    expect(seen).toEqual([
      "before /v1/collections/{name}/query",
      "after /v1/collections/{name}/query",
      "before /v1/collections/{name}",
      "after /v1/collections/{name}",
      "before /v1/*",
      "after /v1/*",
    ]);
    expect(precheckFor("POST", "/v1/collections/{name}/query")).toEqual({ all: ["queries"] });
    expect(precheckFor("POST", "/v1/collections/{name}/items")).toEqual({ all: ["item_writes"] });
    expect(precheckFor("PUT", "/v1/collections/{name}")).toEqual({});
    expect(precheckFor("POST", "/v1/collections/holiday-2026/query")).toBeUndefined();
  });

  it("are what billing records carry, never a path with a customer's collection name", async () => {
    const app = collectionsApp();
    const key = await newKey("wide");
    expect((await app.create(key.key, "my-secret-photos")).status).toBe(201);
    expect((await app.upsert(key.key, "my-secret-photos", { items: 2, images: 1 })).status).toBe(200);
    expect((await app.query(key.key, "my-secret-photos")).status).toBe(200);
    const { records } = await committed(key.id);
    expect(records.map((r) => r.route)).toEqual([
      "/v1/collections/{name}",
      "/v1/collections/{name}/items",
      "/v1/collections/{name}/query",
    ]);
    expect(JSON.stringify(records)).not.toContain("my-secret-photos");
  });
});

describe("reserveUnits", () => {
  it("refuses a write the quota cannot serve before anything is written: 429 quota_exceeded, nothing held or billed", async () => {
    const app = collectionsApp();
    const key = await newKey("tiny"); // 5 item writes, 3 images
    const refused = await app.upsert(key.key, "c", { items: 6 });
    const problem = await expectProblem(refused, 429, "quota_exceeded");
    expect(problem.detail).toContain("5 item writes");
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(refused.headers.get("ratelimit-policy")).toContain('"item_writes";q=5;qu="item_writes"');
    expect(refused.headers.get("ratelimit")).toMatch(/"item_writes";r=5;t=\d+, "queries";r=5;t=\d+$/);
    // Too many images is refused the same way, even with item writes to spare.
    await expectProblem(await app.upsert(key.key, "c", { items: 4, images: 4 }), 429, "quota_exceeded");
    expect(app.writes).toEqual([]);
    expect(await held(key.id)).toEqual(NOTHING_HELD);
    expect((await committed(key.id)).records).toEqual([]);

    const ok = await app.upsert(key.key, "c", { items: 5, images: 3 });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("ratelimit")).toMatch(/"images";r=0;t=\d+, .*"item_writes";r=0;t=\d+/);
    expect((await committed(key.id)).month).toMatchObject({ item_writes: 5, images: 3 });
    // With nothing left, the precheck refuses at admission: the route does not even run.
    const runs = app.runs();
    await expectProblem(await app.upsert(key.key, "c", { items: 1 }), 429, "quota_exceeded");
    expect(app.runs()).toBe(runs);
    expect(app.writes).toEqual([{ collection: "c", items: 5 }]);
  });

  it("lets only as many concurrent writes through as the quota holds: 10 one-item upserts on 5 → exactly 5 written and billed", async () => {
    const app = collectionsApp();
    const key = await newKey("tiny");
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) => app.upsert(key.key, `c${i}`, { items: 1 })),
    );
    expect(answers.filter((r) => r.status === 200)).toHaveLength(5);
    expect(answers.filter((r) => r.status === 429)).toHaveLength(5);
    expect(app.writes).toHaveLength(5);
    const { records, month } = await committed(key.id);
    expect(records).toHaveLength(5);
    expect(month).toMatchObject({ item_writes: 5, requests: 5 });
    expect(await held(key.id)).toEqual(NOTHING_HELD);
  });

  it.each([
    ["the write throws", "write", 500],
    ["the route answers 2xx without billing", "after write, unbilled", 200],
    ["the route bills, then answers 500", "after write, 500", 500],
  ] as const)("releases the reservation when %s", async (_name, fail, status) => {
    const app = collectionsApp();
    const key = await newKey("tiny");
    const response = await app.upsert(key.key, "c", { items: 5, fail });
    expect(response.status).toBe(status);
    expect(await held(key.id)).toEqual(NOTHING_HELD);
    expect((await committed(key.id)).records).toEqual([]);
    // The whole quota is still there for the next request.
    expect((await app.upsert(key.key, "c", { items: 5 })).status).toBe(200);
  });

  it("bills the items written, not the failed ones, and lets the rest of the reservation go", async () => {
    const app = collectionsApp();
    const key = await newKey("tiny");
    expect((await app.upsert(key.key, "c", { items: 5, failed: 2 })).status).toBe(200);
    expect((await committed(key.id)).month).toMatchObject({ item_writes: 3 });
    expect(await held(key.id)).toEqual(NOTHING_HELD);
    expect((await app.upsert(key.key, "c", { items: 2 })).status).toBe(200);
  });

  it("refuses a query once the month's queries are used up", async () => {
    const app = collectionsApp();
    const key = await newKey("tiny"); // 5 queries
    for (let i = 0; i < 5; i++) expect((await app.query(key.key, "c")).status).toBe(200);
    const runs = app.runs();
    await expectProblem(await app.query(key.key, "c"), 429, "quota_exceeded");
    expect(app.runs()).toBe(runs);
    expect((await committed(key.id)).month).toMatchObject({ queries: 5, texts: 5 });
  });

  it("throws a bug, not a problem, on a route without the metering middleware", async () => {
    const { reserveUnits } = await import("./usage.ts");
    const app = new Hono();
    app.post("/x", async (c) => {
      await reserveUnits(c, { queries: 1 });
      return c.text("unreachable");
    });
    app.onError((error, c) => c.text(error.message, 500));
    expect(await (await app.request("/x", { method: "POST" })).text()).toContain("metering middleware");
  });
});
