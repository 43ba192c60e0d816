import { evictDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import {
  admin,
  committed,
  createKey,
  edge,
  expectProblem,
  meterOf,
  postJsonWith,
  TEST_PLANS,
} from "../../test/support/workers/billing.ts";

const texts = (n: number, tag: string) => Array.from({ length: n }, (_, i) => `${tag} ${i}`);

describe("a key's limits and bill live in storage, not memory", () => {
  it("keeps quota counters and records across a Durable Object restart", async () => {
    const { key, id } = await createKey({ plan: "tiny" }); // 10 texts a month
    expect((await postJsonWith(key, "/v1/embeddings", { input: texts(6, "before restart") })).status).toBe(
      200,
    );
    const before = await committed(id);

    await evictDurableObject(meterOf(id));

    expect(await committed(id)).toEqual(before);
    await expectProblem(
      await postJsonWith(key, "/v1/embeddings", { input: texts(5, "after restart") }),
      429,
      "quota_exceeded",
    );
    expect((await postJsonWith(key, "/v1/embeddings", { input: texts(4, "after restart") })).status).toBe(
      200,
    );
    const after = await committed(id);
    expect(after.records).toHaveLength(2);
    expect(after.month.texts).toBe(10);
  });

  it("keeps the token bucket across a restart", async () => {
    const { key, id } = await createKey({ plan: "slow" }); // burst 3
    for (let i = 0; i < 3; i++) expect((await edge("/v1/models", { key })).status).toBe(200);
    await evictDurableObject(meterOf(id));
    await expectProblem(await edge("/v1/models", { key }), 429, "rate_limited");
  });

  it("keeps a revocation across a restart", async () => {
    const created = await createKey();
    expect((await edge("/v1/models", { key: created.key })).status).toBe(200);
    await admin(`/admin/keys/${created.id}/revoke`, { method: "POST" });
    await evictDurableObject(meterOf(created.id));
    const answer = await meterOf(created.id).admit({ keyId: created.id, plan: TEST_PLANS.wide as never });
    expect(answer).toEqual({ ok: false, code: "revoked_api_key" });
  });
});
