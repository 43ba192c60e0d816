import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { committed, expectProblem, TEST_PLANS } from "../../../test/support/workers/billing.ts";
import { ApiError } from "../../errors.ts";
import { provideServices, servicesFor } from "../../services/index.ts";
import { apiKeyAuth } from "../api-key/index.ts";
import { handleError } from "../problem/index.ts";
import { requestId } from "../request-id/index.ts";
import { metering } from "./index.ts";
import { billUsage, usageOf } from "./usage.ts";

/** The test plans, and `single`: one request, then one per 1,000 s. */
const bindings = {
  ...env,
  BILLING_PLANS: JSON.stringify({
    ...TEST_PLANS,
    single: { ...TEST_PLANS.wide, requests_per_second: 0.001, burst: 1 },
  }),
} as Env;

interface Body {
  texts?: number;
  fail?: "before billing" | "after billing" | "without usage";
}

/**
 * A tiny app on the real key store and key meters: POST /v1/embeddings bills `texts` computed texts and answers with
 * a fresh nonce (so a replay is recognisable), or fails as the body says.
 */
function appWithMetering() {
  let runs = 0;
  const logged: string[] = [];
  const app = new Hono<{ Bindings: Env }>();
  app.use("*", requestId());
  app.use("*", provideServices());
  app.use("/v1/*", apiKeyAuth());
  app.use(
    "/v1/*",
    metering((line) => void logged.push(line)),
  );
  app.post("/v1/embeddings", async (c) => {
    runs++;
    const body = await c.req.json<Body>();
    if (body.fail === "before billing") throw new ApiError("upstream_error", "the GPU tier failed");
    if (body.fail === "without usage") return c.json({ nothing: "billed" });
    const usage = billUsage(c, usageOf(0, { computed: body.texts ?? 1, cached: 0 }));
    if (body.fail === "after billing") return c.json({ partial: true }, 502);
    return c.json({ usage, nonce: crypto.randomUUID() }, 200, { "x-route": "embeddings" });
  });
  app.onError(handleError());
  const post = async (key: string, body: Body, headers: Record<string, string> = {}) => {
    const ctx = createExecutionContext();
    const response = await app.request(
      "/v1/embeddings",
      {
        method: "POST",
        body: JSON.stringify(body),
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json", ...headers },
      },
      bindings,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    return response;
  };
  return { post, runs: () => runs, logged };
}

function newKey(plan: string) {
  return servicesFor(bindings).billing.keys.create(
    { name: "metering test", account: `acct-${crypto.randomUUID()}`, plan },
    Date.now(),
  );
}

describe("metering", () => {
  it("bills a successful request once and tells the caller its limits (RateLimit-Policy, RateLimit)", async () => {
    const { post } = appWithMetering();
    const key = await newKey("wide");
    const response = await post(key.key, { texts: 3 });
    expect(response.status).toBe(200);
    expect(response.headers.get("x-route")).toBe("embeddings");
    expect(response.headers.get("ratelimit-policy")).toMatch(
      /^"rate";q=1000;w=1, "images";q=1000000;qu="images";w=\d+, "texts";q=1000000;qu="texts";w=\d+, "item_writes";q=1000000;qu="item_writes";w=\d+, "queries";q=1000000;qu="queries";w=\d+$/,
    );
    expect(response.headers.get("ratelimit")).toMatch(
      // The bucket refills 1,000 a second, so what is left of it depends on the clock; the month's texts do not.
      /^"rate";r=\d+;t=\d+, "images";r=1000000;t=\d+, "texts";r=999997;t=\d+, "item_writes";r=1000000;t=\d+, "queries";r=1000000;t=\d+$/,
    );
    const { records, month } = await committed(key.id);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      key_id: key.id,
      request_id: response.headers.get("x-request-id"),
      route: "/v1/embeddings",
      plan: "wide",
      requests: 1,
      images: 0,
      texts_computed: 3,
      texts_cached: 0,
    });
    expect(month).toMatchObject({ requests: 1, texts: 3 });
  });

  it("refuses a request over the plan's rate before the route runs: 429 rate_limited with Retry-After, not billed", async () => {
    const { post, runs } = appWithMetering();
    const key = await newKey("single");
    expect((await post(key.key, { texts: 1 })).status).toBe(200);
    const limited = await post(key.key, { texts: 1 });
    const problem = await expectProblem(limited, 429, "rate_limited");
    expect(problem.detail).toContain("bursts of up to 1");
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(900);
    expect(limited.headers.get("ratelimit")).toMatch(/^"rate";r=0;/);
    expect(limited.headers.get("ratelimit-policy")).toContain('"rate";q=1;w=1000');
    expect(runs()).toBe(1);
    expect((await committed(key.id)).records).toHaveLength(1);
  });

  it.each([
    ["throws", "before billing", 502],
    ["records usage, then answers 502", "after billing", 502],
    ["succeeds without recording usage", "without usage", 200],
  ] as const)("bills nothing when the route %s, and still sends the limits", async (_name, fail, status) => {
    const { post, runs } = appWithMetering();
    const key = await newKey("wide");
    const response = await post(key.key, { texts: 2, fail });
    expect(response.status).toBe(status);
    // Taken at admission, in the same instant as the token: exactly one gone.
    expect(response.headers.get("ratelimit")).toMatch(/^"rate";r=999;/);
    expect(runs()).toBe(1);
    const { records, month } = await committed(key.id);
    expect(records).toEqual([]);
    expect(month).toMatchObject({ requests: 0, texts: 0 });
  });

  it("answers a repeat under the same Idempotency-Key with the stored answer (Idempotent-Replayed), billed once", async () => {
    const { post, runs } = appWithMetering();
    const key = await newKey("wide");
    const headers = { "idempotency-key": `mw-${crypto.randomUUID()}` };
    const first = await post(key.key, { texts: 2 }, headers);
    expect(first.status).toBe(200);
    expect(first.headers.get("idempotent-replayed")).toBeNull();
    const firstBody = await first.text();

    const replay = await post(key.key, { texts: 2 }, headers);
    expect(replay.status).toBe(200);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(replay.headers.get("x-route")).toBe("embeddings");
    expect(replay.headers.get("ratelimit")).toMatch(/^"rate";r=\d+;.*"texts";r=999998;/);
    expect(await replay.text()).toBe(firstBody);
    expect(runs()).toBe(1);

    // The same key with another body is another request: refused, and the route does not run.
    await expectProblem(await post(key.key, { texts: 5 }, headers), 422, "idempotency_key_reused");
    expect(runs()).toBe(1);
    expect((await committed(key.id)).records).toHaveLength(1);
  });

  it("refuses a key whose plan the deployment does not define: 500, logged, nothing run", async () => {
    const { post, runs, logged } = appWithMetering();
    const key = await newKey("discontinued");
    await expectProblem(await post(key.key, { texts: 1 }), 500, "internal_error");
    expect(logged).toEqual([`key ${key.id} is on plan "discontinued", which BILLING_PLANS does not define`]);
    expect(runs()).toBe(0);
  });
});
