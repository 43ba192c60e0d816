import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { Hono } from "hono";
import { ApiError } from "../../../workers/errors.ts";
import { apiKeyAuth } from "../../../workers/middleware/api-key/index.ts";
import { metering } from "../../../workers/middleware/metering/index.ts";
import { billUsage, reserveUnits, usageOf } from "../../../workers/middleware/metering/usage.ts";
import { handleError } from "../../../workers/middleware/problem/index.ts";
import { requestId } from "../../../workers/middleware/request-id/index.ts";
import { provideServices } from "../../../workers/services/index.ts";
import { billingEnv } from "./billing.ts";

/** What a fake upsert is asked to do: `items` items, `images` of them images, `failed` of them failing alone. */
export interface FakeUpsert {
  items: number;
  images?: number;
  failed?: number;
  /** Where it goes wrong: the write itself throws, or the route answers without billing. */
  fail?: "write" | "after write, unbilled" | "after write, 500";
}

/**
 * A tiny app on the collections' real paths, behind the real metering middleware, key store and key meters. Its
 * routes bill as the real ones will — an upsert reserves its item writes and images, writes, and bills what it
 * wrote; a query reserves one query (and one text) — and keep what they "wrote" in `writes`, so a test sees whether
 * a refused request left anything behind.
 */
export function collectionsApp() {
  const writes: { collection: string; items: number }[] = [];
  let runs = 0;
  const app = new Hono<{ Bindings: Env }>();
  app.use("*", requestId());
  app.use("*", provideServices());
  app.use("/v1/*", apiKeyAuth());
  app.use(
    "/v1/*",
    metering(() => {}),
  );
  app.put("/v1/collections/:name", (c) => {
    runs++;
    return c.json(
      { usage: billUsage(c, { ...usageOf(0, { computed: 0, cached: 0 }), item_writes: 0, queries: 0 }) },
      201,
    );
  });
  app.post("/v1/collections/:name/items", async (c) => {
    runs++;
    const body = await c.req.json<FakeUpsert>();
    const images = body.images ?? 0;
    await reserveUnits(c, { item_writes: body.items, images });
    if (body.fail === "write") throw new ApiError("internal_error", "the store failed mid-write");
    writes.push({ collection: c.req.param("name"), items: body.items - (body.failed ?? 0) });
    if (body.fail === "after write, unbilled") return c.json({ nothing: "billed" });
    const usage = billUsage(c, {
      ...usageOf(images, { computed: 0, cached: 0 }),
      item_writes: body.items - (body.failed ?? 0),
      queries: 0,
    });
    if (body.fail === "after write, 500") return c.json({ usage }, 500);
    return c.json({ usage });
  });
  app.post("/v1/collections/:name/query", async (c) => {
    runs++;
    await reserveUnits(c, { queries: 1, texts: 1 });
    return c.json({
      matches: [],
      usage: billUsage(c, { ...usageOf(0, { computed: 1, cached: 0 }), item_writes: 0, queries: 1 }),
    });
  });
  app.onError(handleError());

  const call = async (key: string, method: string, path: string, body?: unknown) => {
    const ctx = createExecutionContext();
    const response = await app.request(
      path,
      {
        method,
        body: body === undefined ? undefined : JSON.stringify(body),
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      },
      billingEnv,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    return response;
  };
  return {
    upsert: (key: string, collection: string, body: FakeUpsert) =>
      call(key, "POST", `/v1/collections/${collection}/items`, body),
    query: (key: string, collection: string) =>
      call(key, "POST", `/v1/collections/${collection}/query`, { text: "a red circle" }),
    create: (key: string, collection: string) => call(key, "PUT", `/v1/collections/${collection}`, {}),
    writes,
    runs: () => runs,
  };
}
