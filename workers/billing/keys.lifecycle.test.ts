import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { type ApiKeyRecord, hashApiKey } from "../../src/billing/index.ts";
import {
  admin,
  billingEnv,
  committed,
  createKey,
  edge,
  expectProblem,
  postJsonWith,
} from "../../test/support/workers/billing.ts";

describe("the key lifecycle", () => {
  it("creates a key shown once: clip_live_ + 43 base62 characters, stored only as its SHA-256", async () => {
    const created = await createKey({ plan: "pro", account: "acme", name: "iOS app" });
    expect(created.key).toMatch(/^clip_live_[0-9A-Za-z]{43}$/);
    expect(created).toMatchObject({ name: "iOS app", account: "acme", plan: "pro", status: "active" });
    expect(created.id).toMatch(/^key_[0-9a-f]{16}$/);
    expect(created.hint).toBe(`clip_live_…${created.key.slice(-4)}`);

    const row = await env.DB.prepare("SELECT * FROM api_keys WHERE id = ?").bind(created.id).first();
    expect(row?.key_hash).toBe(await hashApiKey(created.key));
    expect(JSON.stringify(row)).not.toContain(created.key.slice(10));

    const fetched = (await (await admin(`/admin/keys/${created.id}`)).json()) as ApiKeyRecord;
    expect(fetched).toEqual({ ...created, key: undefined });
    expect(JSON.stringify(fetched)).not.toContain(created.key.slice(10));
    const listed = (await (await admin("/admin/keys?account=acme")).json()) as { data: ApiKeyRecord[] };
    expect(listed.data.map((k) => k.id)).toContain(created.id);
    expect(JSON.stringify(listed)).not.toContain(created.key.slice(10));
  });

  it("lets the key call the API, and records (approximately) when it was last used", async () => {
    const created = await createKey();
    const response = await edge("/v1/models", { key: created.key });
    expect(response.status).toBe(200);
    expect(response.headers.get("ratelimit-policy")).toContain('"rate";q=1000');
    const fetched = (await (await admin(`/admin/keys/${created.id}`)).json()) as ApiKeyRecord;
    expect(Date.parse(fetched.last_used_at ?? "")).toBeGreaterThanOrEqual(Date.parse(created.created_at));
  });

  it("stops a revoked key at once — also in an isolate that still has it cached as active — and bills nothing", async () => {
    const created = await createKey();
    const otherIsolate = { ...billingEnv } as Env; // its own services and key cache
    expect((await edge("/v1/models", { key: created.key, bindings: otherIsolate })).status).toBe(200);

    const revoked = await admin(`/admin/keys/${created.id}/revoke`, { method: "POST" });
    expect(revoked.status).toBe(200);
    const record = (await revoked.json()) as ApiKeyRecord;
    expect(record.status).toBe("revoked");
    expect(record.revoked_at).not.toBeNull();

    await expectProblem(
      await postJsonWith(created.key, "/v1/embeddings", { input: "a red star" }),
      401,
      "revoked_api_key",
    );
    // The other isolate's cache still says "active" (for up to 30 s); the key's Durable Object refuses it anyway.
    const refused = await expectProblem(
      await edge("/v1/models", { key: created.key, bindings: otherIsolate }),
      401,
      "revoked_api_key",
    );
    expect(refused.detail).toContain("revoked");
    expect((await committed(created.id)).records).toEqual([]);

    const again = (await (
      await admin(`/admin/keys/${created.id}/revoke`, { method: "POST" })
    ).json()) as ApiKeyRecord;
    expect(again.revoked_at).toBe(record.revoked_at);
  });

  it("answers 404 for a key that does not exist, and 400 for a bad plan or name", async () => {
    await expectProblem(await admin("/admin/keys/key_nope"), 404, "key_not_found");
    await expectProblem(await admin("/admin/keys/key_nope/revoke", { method: "POST" }), 404, "key_not_found");
    const badPlan = await expectProblem(
      await admin("/admin/keys", { method: "POST", body: JSON.stringify({ name: "x", plan: "gold" }) }),
      400,
      "invalid_request",
    );
    expect(badPlan.errors?.[0]?.pointer).toBe("/plan");
    const noName = await expectProblem(
      await admin("/admin/keys", { method: "POST", body: JSON.stringify({ plan: "free" }) }),
      400,
      "invalid_request",
    );
    expect(noName.errors?.[0]?.pointer).toBe("/name");
  });

  it("puts new keys on the free plan of the default account unless told otherwise", async () => {
    const response = await admin("/admin/keys", {
      method: "POST",
      body: JSON.stringify({ name: "newcomer" }),
    });
    expect(response.status).toBe(201);
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(await response.json()).toMatchObject({ plan: "free", account: "default" });
  });
});
