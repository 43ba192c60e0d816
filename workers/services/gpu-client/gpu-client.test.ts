import { describe, expect, it } from "vitest";
import { CircuitBreaker } from "./circuit-breaker.ts";
import { GpuClient } from "./gpu-client.ts";

/**
 * Routing and circuit logic against scripted backends: each backend's next answers are queued up, so failure
 * sequences are exact. (Real backends, up and killed, are exercised by the end-to-end tests.)
 */
function scripted(script: Record<string, (() => Response | Promise<Response>)[]>) {
  const calls: string[] = [];
  const fetch = (async (input: RequestInfo | URL) => {
    const url = new URL(String(input instanceof Request ? input.url : input));
    calls.push(url.origin);
    const next = script[url.origin]?.shift();
    if (!next) throw new TypeError("connection refused");
    return next();
  }) as typeof globalThis.fetch;
  return { fetch, calls };
}

const ok = () => new Response("ok");
const refused = () => Promise.reject(new TypeError("connection refused"));
const A = "http://a.test";
const B = "http://b.test";

function client(fetch: typeof globalThis.fetch, now = () => 0, backends = [A, B]) {
  return new GpuClient({
    backends,
    secret: "s".repeat(40),
    timeoutMs: 1000,
    maxAttempts: 2,
    breaker: { failureThreshold: 2, cooldownMs: 5000 },
    fetch,
    now,
    random: () => 0,
  });
}

describe("GpuClient", () => {
  it("retries on another backend when a connection is refused (no response, so nothing was processed)", async () => {
    const { fetch, calls } = scripted({ [A]: [refused], [B]: [ok] });
    const result = await client(fetch).post("/v1/embed/texts", new Uint8Array([1]), "x");
    expect(result.ok && result.backend).toBe(B);
    expect(calls).toEqual([A, B]);
  });

  it("does not retry after a 500: the backend may have done the work", async () => {
    const { fetch, calls } = scripted({ [A]: [() => new Response("boom", { status: 500 })], [B]: [ok] });
    const result = await client(fetch).post("/p", new Uint8Array(), "x");
    expect(result).toMatchObject({ ok: false, code: "upstream_error" });
    expect(calls).toEqual([A]);
  });

  it("moves on after a 503 and skips that backend for its Retry-After", async () => {
    let now = 0;
    const { fetch, calls } = scripted({
      [A]: [() => new Response("busy", { status: 503, headers: { "retry-after": "3" } }), ok],
      [B]: [ok, ok],
    });
    const c = client(fetch, () => now);
    expect((await c.post("/p", new Uint8Array(), "x")).ok).toBe(true);
    expect((await c.post("/p", new Uint8Array(), "x")).ok).toBe(true);
    expect(calls).toEqual([A, B, B]);
    now = 3001;
    await c.post("/p", new Uint8Array(), "x");
    expect(calls.at(-1)).toBe(A);
  });

  it("opens a backend's circuit after repeated failures and answers at once, with Retry-After, when all are open", async () => {
    let now = 0;
    const { fetch, calls } = scripted({ [A]: [refused, refused], [B]: [refused, refused] });
    const c = client(fetch, () => now);
    await c.post("/p", new Uint8Array(), "x");
    await c.post("/p", new Uint8Array(), "x");
    expect(c.snapshot().map((b) => b.circuit)).toEqual(["open", "open"]);
    const before = calls.length;
    const result = await c.post("/p", new Uint8Array(), "x");
    expect(calls.length).toBe(before);
    expect(result).toMatchObject({ ok: false, code: "gpu_unavailable", retryAfterSeconds: 5 });
    now = 5000;
    expect(c.snapshot().every((b) => b.circuit === "open")).toBe(true);
  });

  it("prefers the backend with fewer requests in flight", async () => {
    let release: () => void = () => {};
    const slow = () => new Promise<Response>((resolve) => (release = () => resolve(ok())));
    const { fetch, calls } = scripted({ [A]: [slow, ok], [B]: [ok] });
    const c = client(fetch);
    const first = c.post("/p", new Uint8Array(), "x");
    await Promise.resolve();
    await c.post("/p", new Uint8Array(), "x");
    release();
    await first;
    expect(calls).toEqual([A, B]);
  });

  it("signs every request for the path it calls", async () => {
    let headers: Headers | undefined;
    const fetch = (async (_: RequestInfo | URL, init?: RequestInit) => {
      headers = new Headers(init?.headers);
      return ok();
    }) as typeof globalThis.fetch;
    await client(fetch, Date.now, [A]).post("/v1/embed/images", new Uint8Array([1, 2]), "application/x");
    expect(headers?.get("x-clip-signature")).toMatch(/^v1=[0-9a-f]{64}$/);
    expect(headers?.get("x-clip-timestamp")).toMatch(/^\d+$/);
  });
});

describe("CircuitBreaker", () => {
  it("closed → open after the threshold → one half-open probe → closed on success or open again on failure", () => {
    const breaker = new CircuitBreaker({ failureThreshold: 2, cooldownMs: 100 });
    breaker.onFailure(0);
    expect(breaker.status).toBe("closed");
    breaker.onFailure(0);
    expect(breaker.status).toBe("open");
    expect(breaker.tryAcquire(50)).toBe(false);
    expect(breaker.tryAcquire(100)).toBe(true);
    expect(breaker.status).toBe("half-open");
    expect(breaker.tryAcquire(100)).toBe(false);
    breaker.onFailure(100);
    expect(breaker.status).toBe("open");
    expect(breaker.tryAcquire(200)).toBe(true);
    breaker.onSuccess();
    expect(breaker.status).toBe("closed");
  });
});
