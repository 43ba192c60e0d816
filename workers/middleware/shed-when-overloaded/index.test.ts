import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import type { Services } from "../../services/index.ts";
import { handleError } from "../problem/index.ts";
import { RequestScope } from "../request-scope/index.ts";
import { shedWhenOverloaded } from "./index.ts";

/** An app whose GPU client reports the given expected wait (ms) for image calls, with a 30 s request budget. */
function appWith(waitMs: number | undefined) {
  const asked: { path: string; remainingMs: number }[] = [];
  const gpu = {
    wouldMissDeadline(path: string, remainingMs: number) {
      asked.push({ path, remainingMs });
      return waitMs !== undefined && waitMs > 0.5 * remainingMs ? waitMs : undefined;
    },
  };
  let handled = 0;
  const app = new Hono<{ Bindings: Env }>();
  app.use("*", async (c, next) => {
    c.set("services", { gpu } as unknown as Services);
    c.set("scope", new RequestScope(30_000));
    await next();
  });
  app.use("/v1/*", shedWhenOverloaded({ "/v1/classify": "/v1/embed/images" }));
  app.post("/v1/classify", (c) => {
    handled++;
    return c.text("served");
  });
  app.post("/v1/embeddings", (c) => {
    handled++;
    return c.text("served");
  });
  app.onError(handleError());
  return { app, asked, handled: () => handled };
}

describe("shedWhenOverloaded", () => {
  it("refuses a classify at once with 503 and the expected wait as Retry-After, before the route runs", async () => {
    const { app, asked, handled } = appWith(45_000);
    const response = await app.request("/v1/classify", { method: "POST", body: "{}" });
    expect(response.status).toBe(503);
    const problem = (await response.json()) as { code: string; detail: string };
    expect(problem).toMatchObject({ code: "gpu_unavailable" });
    expect(problem.detail).toMatch(/would miss its deadline/);
    expect(response.headers.get("retry-after")).toBe("45");
    expect(handled()).toBe(0);
    expect(asked[0]?.path).toBe("/v1/embed/images");
  });

  it("lets it through when the wait fits, and never judges routes it was not given", async () => {
    const fits = appWith(5_000);
    expect((await fits.app.request("/v1/classify", { method: "POST", body: "{}" })).status).toBe(200);
    const busy = appWith(45_000);
    expect((await busy.app.request("/v1/embeddings", { method: "POST", body: "{}" })).status).toBe(200);
    expect(busy.asked).toEqual([]);
    const unknown = appWith(undefined);
    expect((await unknown.app.request("/v1/classify", { method: "POST", body: "{}" })).status).toBe(200);
  });
});
