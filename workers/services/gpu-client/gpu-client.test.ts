import { describe, expect, it } from "vitest";
import { type Admission, CircuitBreaker } from "./circuit-breaker.ts";
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

const LATER = { deadline: Number.MAX_SAFE_INTEGER };

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
    const result = await client(fetch).post("/v1/embed/texts", new Uint8Array([1]), "x", LATER);
    expect(result.ok && result.value.backend).toBe(B);
    expect(calls).toEqual([A, B]);
  });

  it("does not retry after a 500: the backend may have done the work", async () => {
    const { fetch, calls } = scripted({ [A]: [() => new Response("boom", { status: 500 })], [B]: [ok] });
    const result = await client(fetch).post("/p", new Uint8Array(), "x", LATER);
    expect(result).toMatchObject({ ok: false, failure: { code: "upstream_error" } });
    expect(calls).toEqual([A]);
  });

  it("moves on after a 503 and skips that backend for its Retry-After", async () => {
    let now = 0;
    const { fetch, calls } = scripted({
      [A]: [() => new Response("busy", { status: 503, headers: { "retry-after": "3" } }), ok],
      [B]: [ok, ok],
    });
    const c = client(fetch, () => now);
    expect((await c.post("/p", new Uint8Array(), "x", LATER)).ok).toBe(true);
    expect((await c.post("/p", new Uint8Array(), "x", LATER)).ok).toBe(true);
    expect(calls).toEqual([A, B, B]);
    now = 3001;
    await c.post("/p", new Uint8Array(), "x", LATER);
    expect(calls.at(-1)).toBe(A);
  });

  it("opens a backend's circuit after repeated failures and answers at once, with Retry-After, when all are open", async () => {
    let now = 0;
    const { fetch, calls } = scripted({ [A]: [refused, refused], [B]: [refused, refused] });
    const c = client(fetch, () => now);
    await c.post("/p", new Uint8Array(), "x", LATER);
    await c.post("/p", new Uint8Array(), "x", LATER);
    expect(c.snapshot().map((b) => b.circuit)).toEqual(["open", "open"]);
    const before = calls.length;
    const result = await c.post("/p", new Uint8Array(), "x", LATER);
    expect(calls.length).toBe(before);
    expect(result).toMatchObject({ ok: false, failure: { code: "gpu_unavailable", retryAfterSeconds: 5 } });
    now = 5000;
    expect(c.snapshot().every((b) => b.circuit === "open")).toBe(true);
  });

  it("prefers the backend with fewer requests in flight", async () => {
    let release: () => void = () => {};
    const slow = () => new Promise<Response>((resolve) => (release = () => resolve(ok())));
    const { fetch, calls } = scripted({ [A]: [slow, ok], [B]: [ok] });
    const c = client(fetch);
    const first = c.post("/p", new Uint8Array(), "x", LATER);
    await Promise.resolve();
    await c.post("/p", new Uint8Array(), "x", LATER);
    release();
    await first;
    expect(calls).toEqual([A, B]);
  });

  it("counts calls in flight on leases, so a call the runtime drops cannot leak the count", async () => {
    let now = 0;
    const never = () => new Promise<Response>(() => {});
    const { fetch } = scripted({ [A]: [never] });
    const c = client(fetch, () => now, [A]);
    void c.post("/p", new Uint8Array(), "x", LATER);
    await new Promise((r) => setTimeout(r, 10));
    expect(c.snapshot()[0]?.outstanding).toBe(1);
    now = 1000 + 1000; // the attempt's timeout (1000 ms) plus the lease's margin
    expect(c.snapshot()[0]?.outstanding).toBe(0);
  });

  it("settles its in-flight count when its request's signal aborts", async () => {
    const now = 0;
    const hang = (_: RequestInfo | URL, init?: RequestInit) =>
      new Promise<Response>((_, reject) =>
        init?.signal?.addEventListener("abort", () => reject(new Error("aborted"))),
      );
    const c = new GpuClient({
      backends: [A],
      secret: "s".repeat(40),
      timeoutMs: 60_000,
      maxAttempts: 1,
      breaker: { failureThreshold: 1, cooldownMs: 100 },
      fetch: hang as typeof globalThis.fetch,
      now: () => now,
    });
    await c.post("/p", new Uint8Array(), "x", { deadline: 0 }); // already late: no attempt
    expect(c.snapshot()[0]).toMatchObject({ circuit: "closed", outstanding: 0 });
    const controller = new AbortController();
    const pending = c.post("/p", new Uint8Array(), "x", { deadline: 60_000, signal: controller.signal });
    await new Promise((r) => setTimeout(r, 10));
    expect(c.snapshot()[0]?.outstanding).toBe(1);
    controller.abort();
    expect(await pending).toMatchObject({ ok: false, failure: { code: "cancelled" } });
    expect(c.snapshot()[0]).toMatchObject({ circuit: "closed", outstanding: 0 });
  });

  it("a call that finds the only backend probing waits for the probe's verdict instead of failing", async () => {
    let now = 0;
    let answerProbe: () => void = () => {};
    const probe = () => new Promise<Response>((resolve) => (answerProbe = () => resolve(ok())));
    const { fetch, calls } = scripted({ [A]: [refused, probe, ok] });
    const c = new GpuClient({
      backends: [A],
      secret: "s".repeat(40),
      timeoutMs: 1000,
      maxAttempts: 1,
      breaker: { failureThreshold: 1, cooldownMs: 100 },
      fetch,
      now: () => now,
    });
    await c.post("/p", new Uint8Array(), "x", LATER); // opens the circuit
    now = 100;
    const first = c.post("/p", new Uint8Array(), "x", LATER); // the probe
    await new Promise((r) => setTimeout(r, 10));
    const second = c.post("/p", new Uint8Array(), "x", LATER); // a sibling: must not fail just because it is second
    await new Promise((r) => setTimeout(r, 10));
    answerProbe();
    expect((await first).ok).toBe(true);
    expect((await second).ok).toBe(true);
    expect(calls).toEqual([A, A, A]);
    expect(c.snapshot()[0]).toMatchObject({ circuit: "closed", outstanding: 0 });
  });

  it("retries a draining backend's request elsewhere and skips it; a shed request goes elsewhere without pausing", async () => {
    const problem = (code: string) => () =>
      new Response(JSON.stringify({ code }), {
        status: 503,
        headers: { "content-type": "application/problem+json", "retry-after": "7" },
      });
    const draining = scripted({ [A]: [problem("shutting_down")], [B]: [ok, ok] });
    const c = client(draining.fetch);
    expect((await c.post("/p", new Uint8Array(), "x", LATER)).ok).toBe(true);
    expect(c.snapshot().map((b) => b.circuit)).toEqual(["open", "closed"]);
    expect((await c.post("/p", new Uint8Array(), "x", LATER)).ok).toBe(true);
    expect(draining.calls).toEqual([A, B, B]);

    const shedding = scripted({ [A]: [problem("shed"), ok], [B]: [ok] });
    const d = client(shedding.fetch);
    expect((await d.post("/p", new Uint8Array(), "x", LATER)).ok).toBe(true);
    expect(d.snapshot().map((b) => b.circuit)).toEqual(["closed", "closed"]);
    expect((await d.post("/p", new Uint8Array(), "x", LATER)).ok).toBe(true);
    expect(shedding.calls).toEqual([A, B, A]);
  });

  it("cuts each attempt to the call's deadline and sends what is left in the signed query", async () => {
    let seen = "";
    const fetch = (async (input: RequestInfo | URL) => {
      seen = String(input);
      return ok();
    }) as typeof globalThis.fetch;
    await client(fetch, () => 1_000, [A]).post("/v1/captions?top_k=3", new Uint8Array(), "x", {
      deadline: 1_800,
    });
    // 800 ms are left: the attempt ends 250 ms early so its answer is out in time, and the backend is told 500 ms
    // less than that, so it answers its own deadline before the edge gives up.
    expect(new URL(seen).search).toBe("?top_k=3&deadline_ms=50");
  });

  it("signs every request for the path it calls", async () => {
    let headers: Headers | undefined;
    const fetch = (async (_: RequestInfo | URL, init?: RequestInit) => {
      headers = new Headers(init?.headers);
      return ok();
    }) as typeof globalThis.fetch;
    await client(fetch, Date.now, [A]).post(
      "/v1/embed/images",
      new Uint8Array([1, 2]),
      "application/x",
      LATER,
    );
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
    expect(breaker.tryAcquire(50, 1000)).toBe(false);
    expect(breaker.tryAcquire(100, 1000)).toMatchObject({ kind: "probe" });
    expect(breaker.status).toBe("half-open");
    expect(breaker.tryAcquire(100, 1000)).toBe(false);
    breaker.onFailure(100);
    expect(breaker.status).toBe("open");
    expect(breaker.tryAcquire(200, 1000)).toMatchObject({ kind: "probe" });
    breaker.onSuccess();
    expect(breaker.status).toBe("closed");
    expect(breaker.tryAcquire(200, 1000)).toEqual({ kind: "call" });
  });

  it("a probe whose outcome never arrives stops holding the trial when its lease ends", () => {
    const breaker = new CircuitBreaker({ failureThreshold: 1, cooldownMs: 100 });
    breaker.onFailure(0);
    expect(breaker.tryAcquire(100, 500)).toMatchObject({ kind: "probe" });
    // Its request ended and the runtime dropped it: no onSuccess/onFailure ever comes.
    expect(breaker.isAvailable(599)).toBe(false);
    expect(breaker.tryAcquire(599, 500)).toBe(false);
    expect(breaker.isAvailable(600)).toBe(true);
    expect(breaker.tryAcquire(600, 500)).toMatchObject({ kind: "probe" });
  });

  it("an abandoned probe frees the trial at once and tells waiters", async () => {
    const breaker = new CircuitBreaker({ failureThreshold: 1, cooldownMs: 100 });
    breaker.onFailure(0);
    const probe = breaker.tryAcquire(100, 10_000);
    expect(probe).toMatchObject({ kind: "probe" });
    const waiting = breaker.probeSettled(100);
    expect(waiting?.leaseEndsIn).toBe(10_000);
    breaker.onAbandoned(probe as Admission);
    await waiting?.settled;
    expect(breaker.status).toBe("half-open");
    expect(breaker.tryAcquire(101, 10_000)).toMatchObject({ kind: "probe" });
  });

  it("a probe whose lease ran out cannot free its successor's trial", () => {
    const breaker = new CircuitBreaker({ failureThreshold: 1, cooldownMs: 100 });
    breaker.onFailure(0);
    const stale = breaker.tryAcquire(100, 500) as Admission;
    const fresh = breaker.tryAcquire(600, 500) as Admission;
    expect(fresh).toMatchObject({ kind: "probe" });
    breaker.onAbandoned(stale);
    expect(breaker.isAvailable(601)).toBe(false);
    breaker.onAbandoned(fresh);
    expect(breaker.isAvailable(601)).toBe(true);
  });
});

describe("GpuClient on a hung or failing backend", () => {
  const hang = (_: RequestInfo | URL, init?: RequestInit) =>
    new Promise<Response>((_, reject) =>
      init?.signal?.addEventListener("abort", () => reject(new Error("aborted"))),
    );

  it("counts attempts that time out without an answer as failures: 3 open the circuit, then it refuses at once", async () => {
    const calls: string[] = [];
    const c = new GpuClient({
      backends: [A],
      secret: "s".repeat(40),
      timeoutMs: 20,
      maxAttempts: 1,
      breaker: { failureThreshold: 3, cooldownMs: 60_000 },
      fetch: ((input, init) => {
        calls.push(String(input));
        return hang(input, init);
      }) as typeof globalThis.fetch,
    });
    for (let i = 0; i < 3; i++)
      expect(await c.post("/p", new Uint8Array(), "x", LATER)).toMatchObject({
        ok: false,
        failure: { code: "upstream_timeout" },
      });
    expect(c.snapshot()[0]).toMatchObject({ circuit: "open", outstanding: 0 });
    expect(await c.post("/p", new Uint8Array(), "x", LATER)).toMatchObject({
      ok: false,
      failure: { code: "gpu_unavailable" },
    });
    expect(calls).toHaveLength(3);
  });

  it("gives up waiting for a hung probe after a bounded number of short waits", async () => {
    let now = 0;
    const { fetch } = scripted({ [A]: [refused, () => hang("", { signal: AbortSignal.timeout(60_000) })] });
    const c = new GpuClient({
      backends: [A],
      secret: "s".repeat(40),
      timeoutMs: 60_000,
      maxAttempts: 1,
      breaker: { failureThreshold: 1, cooldownMs: 100 },
      fetch,
      now: () => now,
    });
    await c.post("/p", new Uint8Array(), "x", LATER); // opens the circuit
    now = 100;
    const probe = c.post("/p", new Uint8Array(), "x", { deadline: 60_000 });
    await new Promise((r) => setTimeout(r, 10));
    // The probe hangs; a sibling waits briefly (at most 3 × 2 s), then answers 503 rather than spend its deadline.
    expect(await c.post("/p", new Uint8Array(), "x", { deadline: 60_000 })).toMatchObject({
      ok: false,
      failure: { code: "gpu_unavailable" },
    });
    void probe;
  }, 30_000);

  it("does not pause a backend whose queue is full, and does not retry an answer cut off mid-body", async () => {
    const full = () =>
      new Response(JSON.stringify({ code: "overloaded" }), {
        status: 503,
        headers: { "content-type": "application/problem+json", "retry-after": "9" },
      });
    const cutOff = () =>
      new Response(
        new ReadableStream({
          start(controller) {
            controller.enqueue(new Uint8Array([1, 2, 3]));
            controller.error(new Error("connection reset"));
          },
        }),
      );
    const { fetch, calls } = scripted({ [A]: [full, cutOff], [B]: [ok, ok] });
    const c = client(fetch);
    expect((await c.post("/p", new Uint8Array(), "x", LATER)).ok).toBe(true);
    expect(c.snapshot().map((b) => b.circuit)).toEqual(["closed", "closed"]);
    expect(await c.post("/p", new Uint8Array(), "x", LATER)).toMatchObject({
      ok: false,
      failure: { code: "upstream_error" },
    });
    expect(calls).toEqual([A, B, A]);
  });

  it("retries elsewhere a draining backend's 503 whose body was cut off by the connection closing behind it", async () => {
    const drainingCutOff = () =>
      new Response(
        new ReadableStream({
          start(controller) {
            controller.error(new Error("connection reset"));
          },
        }),
        { status: 503, headers: { "retry-after": "1", connection: "close" } },
      );
    const { fetch, calls } = scripted({ [A]: [drainingCutOff], [B]: [ok, ok] });
    const c = client(fetch);
    expect(await c.post("/p", new Uint8Array(), "x", LATER)).toMatchObject({ ok: true });
    // A is skipped for its Retry-After (shown as open), as a draining backend's refusal asks.
    expect(c.snapshot().map((b) => b.circuit)).toEqual(["open", "closed"]);
    expect((await c.post("/p", new Uint8Array(), "x", LATER)).ok).toBe(true);
    expect(calls).toEqual([A, B, B]);
  });

  it("hands every call to keepAlive, so it can settle even after its request has answered", async () => {
    const kept: Promise<unknown>[] = [];
    const { fetch } = scripted({ [A]: [ok] });
    const result = client(fetch, () => 0, [A]).post("/p", new Uint8Array(), "x", {
      ...LATER,
      keepAlive: (p) => kept.push(p),
    });
    expect(kept).toEqual([result]);
    expect((await result).ok).toBe(true);
  });

  it("sheds at the edge, at once, when every backend's recent answer rate would keep a call past its deadline", async () => {
    let now = 0;
    let pending = 0;
    const slow = () =>
      new Promise<Response>((resolve) => {
        pending++;
        setTimeout(() => resolve(ok()), 1);
      });
    const c = new GpuClient({
      backends: [A],
      secret: "s".repeat(40),
      timeoutMs: 60_000,
      maxAttempts: 1,
      breaker: { failureThreshold: 3, cooldownMs: 1000 },
      fetch: slow as typeof globalThis.fetch,
      now: () => now,
    });
    // 20 answers, one every 100 ms: 10 per second.
    for (let i = 0; i < 20; i++) {
      now = i * 100;
      await c.post("/p", new Uint8Array(), "x", LATER);
    }
    expect(pending).toBe(20);
    // 1,000 ms left: with nothing in flight a call would wait ~100 ms, which fits.
    expect((await c.post("/p", new Uint8Array(), "x", { deadline: now + 1_000 })).ok).toBe(true);
    // 100 ms left is less than the 100 ms it would take: refused without calling the backend.
    const shed = await c.post("/p", new Uint8Array(), "x", { deadline: now + 100 });
    expect(shed).toMatchObject({ ok: false, failure: { code: "gpu_unavailable" } });
    expect(shed.ok || shed.failure.message).toMatch(/would miss its deadline/);
    expect(pending).toBe(21);
    expect(c.snapshot()[0]?.circuit).toBe("closed");
  });
});
