import { describe, expect, it } from "vitest";
import type { EmbeddingsResponse } from "../../src/api/index.ts";
import { costMicros, DEFAULT_PLANS, type Plan, unitsOf } from "../../src/billing/index.ts";
import {
  committed,
  createKey,
  expectProblem,
  postJsonWith,
  sumUnits,
} from "../../test/support/workers/billing.ts";
import { shape } from "../../test/support/workers/worker.ts";

const N = 40;
const prices = DEFAULT_PLANS.pro as Plan;

describe("exactly one record per billed request, under concurrency", () => {
  it(`${N} concurrent requests → exactly ${N} records whose units are the responses' usage, and counters that add up`, async () => {
    const { key, id } = await createKey({ plan: "wide" });
    // Shared texts race between "computed" and "from the cache"; every 4th request also sends an image.
    const bodies = Array.from({ length: N }, (_, i) => ({
      input: [
        "shared text one",
        "shared text two",
        `a text only request ${i} has`,
        ...(i % 4 === 0 ? [{ image: { base64: shape("green star").base64 } }] : []),
      ],
    }));
    const responses = await Promise.all(bodies.map((body) => postJsonWith(key, "/v1/embeddings", body)));
    expect(responses.map((r) => r.status)).toEqual(Array(N).fill(200));
    const answers = await Promise.all(
      responses.map(async (r) => ({
        requestId: r.headers.get("x-request-id"),
        usage: ((await r.json()) as EmbeddingsResponse).usage,
      })),
    );

    const { records, month } = await committed(id);
    expect(records).toHaveLength(N);
    expect(new Set(records.map((r) => r.id)).size).toBe(N);
    // Each response's usage is its record's units, matched by request id.
    const byRequest = new Map(records.map((r) => [r.request_id, r]));
    for (const { requestId, usage } of answers) {
      const record = byRequest.get(requestId ?? "");
      expect(record).toMatchObject({ ...usage, requests: 1, route: "/v1/embeddings", key_id: id });
      expect(record?.cost_micros).toBe(costMicros(unitsOf(usage), prices));
    }
    const total = sumUnits(records);
    expect(total.requests).toBe(N);
    expect(total.images).toBe(N / 4);
    expect(total.texts_computed + total.texts_cached).toBe(3 * N);
    expect(total.texts_computed).toBeGreaterThanOrEqual(N); // at least the texts no other request sent
    expect(month).toEqual({
      requests: N,
      images: N / 4,
      texts: 3 * N,
      item_writes: 0,
      queries: 0,
      cost_micros: total.cost_micros,
    });
  });

  it("never lets racing requests take a key over its quota: 16 concurrent one-text requests on 10 texts → exactly 10 billed", async () => {
    const { key, id } = await createKey({ plan: "tiny" }); // 10 texts a month
    const responses = await Promise.all(
      Array.from({ length: 16 }, (_, i) => postJsonWith(key, "/v1/embeddings", { input: `race text ${i}` })),
    );
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(10);
    expect(statuses.filter((s) => s === 429)).toHaveLength(6);
    for (const refused of responses.filter((r) => r.status === 429))
      await expectProblem(refused, 429, "quota_exceeded");
    const { records, month } = await committed(id);
    expect(records).toHaveLength(10);
    expect(month.texts).toBe(10);
    expect(month.requests).toBe(10);
  });
});
