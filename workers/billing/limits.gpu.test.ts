import { describe, expect, it } from "vitest";
import { secondsUntilMonthEnds } from "../../src/billing/index.ts";
import {
  committed,
  createKey,
  edge,
  expectProblem,
  postJsonWith,
} from "../../test/support/workers/billing.ts";

const texts = (n: number, tag: string) => Array.from({ length: n }, (_, i) => `${tag} text ${i}`);

describe("rate limits (token bucket in the key's Durable Object)", () => {
  it("allows the plan's burst, then answers 429 rate_limited with Retry-After and the RateLimit fields", async () => {
    const { key } = await createKey({ plan: "slow" }); // burst 3, then one request per 100 s
    const remaining: string[] = [];
    for (let i = 0; i < 3; i++) {
      const response = await edge("/v1/models", { key });
      expect(response.status).toBe(200);
      expect(response.headers.get("ratelimit-policy")).toMatch(
        /^"rate";q=3;w=300, "images";q=1000000;qu="images";w=\d+, "texts";q=1000000;qu="texts";w=\d+, "item_writes";q=1000000;qu="item_writes";w=\d+, "queries";q=1000000;qu="queries";w=\d+$/,
      );
      remaining.push(/"rate";r=(\d+)/.exec(response.headers.get("ratelimit") ?? "")?.[1] ?? "");
    }
    expect(remaining).toEqual(["2", "1", "0"]);

    const limited = await edge("/v1/models", { key });
    const problem = await expectProblem(limited, 429, "rate_limited");
    expect(problem.detail).toContain("0.01 requests per second");
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(99);
    expect(limited.headers.get("ratelimit")).toMatch(/^"rate";r=0;t=\d+/);
    expect(limited.headers.get("ratelimit-policy")).toContain('"rate";q=3');
  });

  it("limits each key on its own", async () => {
    const [a, b] = [await createKey({ plan: "slow" }), await createKey({ plan: "slow" })];
    for (let i = 0; i < 3; i++) expect((await edge("/v1/models", { key: a.key })).status).toBe(200);
    expect((await edge("/v1/models", { key: a.key })).status).toBe(429);
    expect((await edge("/v1/models", { key: b.key })).status).toBe(200);
  });
});

describe("monthly quotas", () => {
  it("bills up to the quota exactly, refuses the request that would pass it (unbilled), then refuses at admission", async () => {
    const { key, id } = await createKey({ plan: "tiny" }); // 10 texts a month
    for (const tag of ["a", "b"]) {
      const ok = await postJsonWith(key, "/v1/embeddings", { input: texts(4, tag) });
      expect(ok.status).toBe(200);
    }
    expect(
      (await postJsonWith(key, "/v1/embeddings", { input: texts(1, "probe") })).headers.get("ratelimit"),
    ).toContain('"texts";r=1;');

    // 9 used: 4 more would make 13. The work is done, but nothing is billed and the answer is 429.
    const before = Date.now();
    const over = await postJsonWith(key, "/v1/embeddings", { input: texts(4, "c") });
    const after = Date.now();
    const problem = await expectProblem(over, 429, "quota_exceeded");
    expect(problem.detail).toContain("nothing was billed");
    const retryAfter = Number(over.headers.get("retry-after"));
    // Until the month ends, as seen some time between sending and receiving (however slow the machine is).
    expect(retryAfter).toBeGreaterThanOrEqual(secondsUntilMonthEnds(after));
    expect(retryAfter).toBeLessThanOrEqual(secondsUntilMonthEnds(before));
    expect(over.headers.get("ratelimit")).toContain('"texts";r=1;');

    expect((await postJsonWith(key, "/v1/embeddings", { input: texts(1, "d") })).status).toBe(200);
    const { records, month } = await committed(id);
    expect(records.map((r) => r.texts_computed + r.texts_cached)).toEqual([4, 4, 1, 1]);
    expect(month.texts).toBe(10);

    // Nothing left: refused before any work is done.
    await expectProblem(
      await postJsonWith(key, "/v1/embeddings", { input: "one more" }),
      429,
      "quota_exceeded",
    );
    expect((await committed(id)).records).toHaveLength(4);
    // Requests that bill nothing still work.
    expect((await edge("/v1/models", { key })).status).toBe(200);
  });

  it("puts the RateLimit fields on errors too, and bills none of them", async () => {
    const { key, id } = await createKey({ plan: "tiny" });
    const response = await edge("/v1/embeddings", {
      key,
      init: { method: "POST", body: "{", headers: { "content-type": "application/json" } },
    });
    await expectProblem(response, 400, "invalid_json");
    expect(response.headers.get("ratelimit")).toMatch(
      /^"rate";r=\d+;t=\d+, "images";r=3;t=\d+, "texts";r=10;t=\d+, "item_writes";r=5;t=\d+, "queries";r=5;t=\d+$/,
    );
    expect((await committed(id)).records).toHaveLength(0);
  });
});
