import { env } from "cloudflare:workers";
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import type { CollectionStore } from "../../services/collections/collection-store.ts";
import { storesOf } from "../../services/collections/request-stores.ts";
import { closeDatabase } from "./index.ts";

describe("closeDatabase", () => {
  it("closes the client a request opened once it has answered, errors included", async () => {
    const kept: CollectionStore[] = [];
    const app = new Hono<{ Bindings: Env }>();
    app.use("*", closeDatabase());
    app.get("/ok", async (c) => {
      const { collections } = storesOf(c);
      kept.push(collections);
      await collections.list("nobody", undefined, 1);
      return c.text("ok");
    });
    app.get("/fails", async (c) => {
      kept.push(storesOf(c).collections);
      throw new Error("boom");
    });
    app.onError((_error, c) => c.text("failed", 500));
    expect((await app.request("/ok", {}, env)).status).toBe(200);
    expect((await app.request("/fails", {}, env)).status).toBe(500);
    // Ended clients refuse new queries: the middleware closed both.
    for (const store of kept) await expect(store.list("nobody", undefined, 1)).rejects.toThrow();
  });

  it("opens nothing for a request that never touches the database", async () => {
    const app = new Hono<{ Bindings: Env }>();
    app.use("*", closeDatabase());
    app.get("/", (c) => c.text("no database"));
    expect(await (await app.request("/", {}, env)).text()).toBe("no database");
  });
});
