import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { generateApiKey } from "../../../src/billing/index.ts";
import { TEST_API_KEY, TEST_KEY_ID } from "../../../test/support/workers/api-key.ts";
import { expectProblem } from "../../../test/support/workers/billing.ts";
import type { VerifiedKey } from "../../billing/index.ts";
import { provideServices, servicesFor } from "../../services/index.ts";
import { handleError } from "../problem/index.ts";
import { requestId } from "../request-id/index.ts";
import { apiKeyAuth } from "./index.ts";

const BARE = 'Bearer realm="clip-edge"';
const INVALID = 'Bearer realm="clip-edge", error="invalid_token"';

/** An app with the real services (D1, KV) behind apiKeyAuth; its route answers with the key it was given. */
function appWithApiKeys() {
  const seen: VerifiedKey[] = [];
  const app = new Hono<{ Bindings: Env }>();
  app.use("*", requestId());
  app.use("*", provideServices());
  app.use("/v1/*", apiKeyAuth());
  app.get("/v1/whoami", (c) => {
    seen.push(c.get("apiKey"));
    return c.json(c.get("apiKey"));
  });
  app.onError(handleError());
  /** Calls the app with this Authorization header (none when undefined), waiting for its waitUntil work. */
  const call = async (authorization?: string) => {
    const ctx = createExecutionContext();
    const headers: Record<string, string> = authorization === undefined ? {} : { authorization };
    const response = await app.request("/v1/whoami", { headers }, env, ctx);
    await waitOnExecutionContext(ctx);
    return response;
  };
  return { call, seen };
}

/** A key stored in D1 the way the admin API stores one. */
function newKey(plan = "pro") {
  return servicesFor(env).billing.keys.create(
    { name: "api-key middleware test", account: "acct-mw", plan },
    Date.now(),
  );
}

describe("apiKeyAuth refuses, before the route runs", () => {
  it("a request without Authorization: 401 missing_api_key with a bare Bearer challenge", async () => {
    const { call, seen } = appWithApiKeys();
    const response = await call();
    await expectProblem(response, 401, "missing_api_key");
    expect(response.headers.get("www-authenticate")).toBe(BARE);
    expect(seen).toEqual([]);
  });

  it.each([
    ["another scheme", `Basic ${btoa(`user:${TEST_API_KEY}`)}`],
    ["an empty bearer", "Bearer "],
    ["a bearer with two tokens", `Bearer ${TEST_API_KEY} ${TEST_API_KEY}`],
    ["another prefix", `Bearer ${TEST_API_KEY.replace("clip_live_", "clip_test_")}`],
    ["a key one character short", `Bearer ${TEST_API_KEY.slice(0, -1)}`],
    ["a key one character long", `Bearer ${TEST_API_KEY}0`],
    ["a key with a character outside its alphabet", `Bearer ${TEST_API_KEY.slice(0, -1)}-`],
  ])("%s: 401 malformed_api_key with an invalid_token challenge", async (_name, authorization) => {
    const { call, seen } = appWithApiKeys();
    const response = await call(authorization);
    await expectProblem(response, 401, "malformed_api_key");
    expect(response.headers.get("www-authenticate")).toBe(INVALID);
    expect(seen).toEqual([]);
  });

  it("a well-formed key nobody created, even one a character away from a real one: 401 invalid_api_key", async () => {
    const { call, seen } = appWithApiKeys();
    const last = TEST_API_KEY.at(-1) === "0" ? "1" : "0";
    for (const key of [generateApiKey(), `${TEST_API_KEY.slice(0, -1)}${last}`]) {
      const response = await call(`Bearer ${key}`);
      await expectProblem(response, 401, "invalid_api_key");
      expect(response.headers.get("www-authenticate")).toBe(INVALID);
    }
    expect(seen).toEqual([]);
  });

  it("a revoked key: 401 revoked_api_key", async () => {
    const { call, seen } = appWithApiKeys();
    const key = await newKey();
    await servicesFor(env).billing.keys.revoke(key.id, Date.now());
    const response = await call(`Bearer ${key.key}`);
    await expectProblem(response, 401, "revoked_api_key");
    expect(response.headers.get("www-authenticate")).toBe(INVALID);
    expect(seen).toEqual([]);
  });
});

describe("apiKeyAuth lets a good key through", () => {
  it("sets c.get('apiKey') to the key's record (never its secret)", async () => {
    const { call, seen } = appWithApiKeys();
    const response = await call(`Bearer ${TEST_API_KEY}`);
    expect(response.status).toBe(200);
    const expected = {
      id: TEST_KEY_ID,
      name: "worker tests",
      account: "test",
      plan: "pro",
      status: "active",
    };
    expect(seen).toEqual([expected]);
    expect(await response.json()).toEqual(expected);
  });

  it("takes the scheme in any case and tolerates extra spaces, as RFC 9110 allows", async () => {
    const { call, seen } = appWithApiKeys();
    for (const header of [`bearer ${TEST_API_KEY}`, `BEARER  ${TEST_API_KEY} `])
      expect((await call(header)).status).toBe(200);
    expect(seen.map((key) => key.id)).toEqual([TEST_KEY_ID, TEST_KEY_ID]);
  });

  it("records when a new key was last used", async () => {
    const { call, seen } = appWithApiKeys();
    const key = await newKey("free");
    expect((await call(`Bearer ${key.key}`)).status).toBe(200);
    expect(seen).toEqual([
      { id: key.id, name: key.name, account: key.account, plan: "free", status: "active" },
    ]);
    const stored = await servicesFor(env).billing.keys.get(key.id);
    expect(stored?.last_used_at).not.toBeNull();
  });
});
