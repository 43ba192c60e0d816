import { Hono } from "hono";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { RequestGate } from "../../../lifecycle/request-gate.ts";
import { admitUntilDrain } from "./index.ts";

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** An app behind the middleware whose handler waits for the test to release it. */
function gatedApp() {
  const gate = new RequestGate();
  const app = new Hono();
  const handled: string[] = [];
  let release: () => void = () => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  app.use("/v1/*", admitUntilDrain(gate));
  app.post("/v1/work", async (c) => {
    handled.push(c.req.query("name") ?? "");
    expect(c.get("admission").arrivedAt).toBeTypeOf("number");
    await released;
    return c.json({ done: c.req.query("name") });
  });
  return { app, gate, handled, release: () => release() };
}

const post = (app: Hono, name: string) => app.request(`/v1/work?name=${name}`, { method: "POST" });

describe("admitUntilDrain", () => {
  it("lets requests through while the service is up, without closing the connection", async () => {
    const { app, release } = gatedApp();
    release();
    const response = await post(app, "a");
    expect(response.status).toBe(200);
    expect(response.headers.get("connection")).toBeNull();
  });

  it("answers a request arriving during the drain 503 shutting_down + Retry-After + Connection: close, unhandled", async () => {
    const { app, gate, handled } = gatedApp();
    void gate.drain(1_000);
    const response = await post(app, "late");
    expect(response.status).toBe(503);
    expect(response.headers.get("retry-after")).toBe("1");
    expect(response.headers.get("connection")).toBe("close");
    expect(((await response.json()) as { code: string }).code).toBe("shutting_down");
    expect(handled).toEqual([]);
  });

  it("finishes a request admitted before the drain, which waits for it", async () => {
    const { app, gate, handled, release } = gatedApp();
    const pending = post(app, "early");
    await vi.advanceTimersByTimeAsync(0);
    expect(gate.inFlight).toBe(1);
    let report: unknown;
    void gate.drain(1_000).then((r) => {
      report = r;
    });
    await vi.advanceTimersByTimeAsync(100);
    expect(report).toBeUndefined();
    release();
    const response = await pending;
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ done: "early" });
    await vi.advanceTimersByTimeAsync(0);
    expect(report).toMatchObject({ inFlight: 1, finished: 1, cut: 0 });
    expect(handled).toEqual(["early"]);
  });

  it("answers an admitted request still unfinished at the drain timeout 503 shutting_down at once", async () => {
    const { app, gate } = gatedApp();
    const pending = post(app, "stuck");
    await vi.advanceTimersByTimeAsync(0);
    const drained = gate.drain(50);
    await vi.advanceTimersByTimeAsync(50);
    const response = await pending;
    expect(response.status).toBe(503);
    expect(response.headers.get("connection")).toBe("close");
    expect(((await response.json()) as { code: string }).code).toBe("shutting_down");
    expect(await drained).toMatchObject({ inFlight: 1, finished: 0, cut: 1 });
  });
});
