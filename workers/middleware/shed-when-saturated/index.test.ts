import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { EventLoopLag } from "../../services/event-loop-lag.ts";
import type { Services } from "../../services/index.ts";
import { handleError } from "../problem/index.ts";
import { shedWhenSaturated } from "./index.ts";

/** An app whose isolate's event loop takes `lagMs()` per turn, as the test sets it; counts what the route served. */
function appWith(lagMs: () => number) {
  let now = 1_000_000;
  const eventLoop = new EventLoopLag({
    now: () => now,
    turn: async () => {
      now += lagMs();
    },
  });
  let served = 0;
  const app = new Hono<{ Bindings: Env }>();
  app.use("*", async (c, next) => {
    c.set("services", { eventLoop, config: { EDGE_SATURATED_LAG_MS: 250 } } as unknown as Services);
    await next();
  });
  app.use("/v1/*", shedWhenSaturated());
  app.post("/v1/classify", (c) => {
    served++;
    return c.text("served");
  });
  app.onError(handleError());
  const post = () => app.request("/v1/classify", { method: "POST", body: "{}" });
  const wait = (ms: number) => {
    now += ms;
  };
  return { post, served: () => served, eventLoop, wait };
}

describe("shedWhenSaturated", () => {
  it("serves while the event loop keeps up, refuses with 503 overloaded once it runs late, and recovers", async () => {
    let lag = 5;
    const { post, served, eventLoop } = appWith(() => lag);
    for (let i = 0; i < 20; i++) expect((await post()).status).toBe(200);
    lag = 2_000; // the isolate is saturated: every turn waits 2 s
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push((await post()).status);
    // A single slow turn does not refuse (the average decides); a run of them does.
    expect(statuses[0]).toBe(200);
    expect(statuses.slice(-5)).toEqual([503, 503, 503, 503, 503]);
    const refused = await post();
    expect(refused.headers.get("content-type")).toBe("application/problem+json");
    const problem = (await refused.json()) as { code: string; detail: string };
    expect(problem.code).toBe("overloaded");
    expect(problem.detail).toMatch(/would miss its deadline/);
    // Time for the queue to drain (four turns at the lag), so retries do not keep it saturated.
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(2);
    const servedWhileSaturated = served();
    lag = 1; // the queue has drained
    for (let i = 0; i < 40; i++) await post();
    expect(eventLoop.averageMs).toBeLessThan(250);
    expect((await post()).status).toBe(200);
    expect(served()).toBeGreaterThan(servedWhileSaturated);
  });

  it("forgets a stale average: after a quiet spell the first request is judged on its own turn", async () => {
    let lag = 3_000;
    const { post, wait } = appWith(() => lag);
    for (let i = 0; i < 30; i++) await post();
    expect((await post()).status).toBe(503);
    wait(60_000);
    lag = 2;
    expect((await post()).status).toBe(200);
  });
});
