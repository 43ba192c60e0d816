import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { generateApiKey } from "../../../src/billing/index.ts";
import { createApp } from "../../../workers/app.ts";
import { admin, committed, createKey, edge, expectProblem } from "./billing.ts";

export interface RouteUnderTest {
  method: string;
  path: string;
}

/** Every route the app registers under a prefix (middleware entries excluded), so a new route is covered at once. */
export function registeredRoutes(prefix: string): RouteUnderTest[] {
  const seen = new Set<string>();
  return createApp()
    .routes.filter((r) => r.path.startsWith(prefix) && r.method !== "ALL")
    .map((r) => ({ method: r.method, path: r.path.replaceAll(/:(\w+)/g, "$1-0") }))
    .filter((r) => !seen.has(`${r.method} ${r.path}`) && seen.add(`${r.method} ${r.path}`));
}

function init(route: RouteUnderTest, authorization?: string): RequestInit {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (authorization !== undefined) headers.authorization = authorization;
  // A body that would be billable if it got through, so "not billed" means something.
  return route.method === "GET" ? { headers } : { method: route.method, headers, body: '{"input":"a cat"}' };
}

/**
 * The API-key checks every /v1 route must pass, as one shared suite: missing, malformed (four ways), unknown and
 * revoked keys each get their own 401 problem with a WWW-Authenticate challenge, the route never runs, and nothing
 * is billed.
 */
export function describeApiKeyChecks(route: RouteUnderTest): void {
  describe(`${route.method} ${route.path} requires an API key`, () => {
    const call = (authorization?: string) =>
      edge(route.path, { key: null, init: init(route, authorization) });

    it("refuses a request without Authorization: 401 missing_api_key with a bare Bearer challenge", async () => {
      const response = await call();
      await expectProblem(response, 401, "missing_api_key");
      expect(response.headers.get("www-authenticate")).toBe('Bearer realm="clip-edge"');
      expect(response.headers.get("ratelimit")).toBeNull();
    });

    it.each([
      ["another scheme", (key: string) => `Basic ${btoa(`user:${key}`)}`],
      ["an empty bearer", () => "Bearer "],
      ["another prefix", (key: string) => `Bearer ${key.replace("clip_live_", "sk_live_")}`],
      ["a truncated key", (key: string) => `Bearer ${key.slice(0, -1)}`],
    ])("refuses %s: 401 malformed_api_key", async (_name, header) => {
      const response = await call(header(generateApiKey()));
      await expectProblem(response, 401, "malformed_api_key");
      expect(response.headers.get("www-authenticate")).toBe(
        'Bearer realm="clip-edge", error="invalid_token"',
      );
    });

    it("refuses a well-formed key nobody created: 401 invalid_api_key", async () => {
      const response = await call(`Bearer ${generateApiKey()}`);
      await expectProblem(response, 401, "invalid_api_key");
      expect(response.headers.get("www-authenticate")).toContain('error="invalid_token"');
    });

    it("refuses a revoked key: 401 revoked_api_key, and bills nothing", async () => {
      const key = await createKey();
      expect((await admin(`/admin/keys/${key.id}/revoke`, { method: "POST" })).status).toBe(200);
      const response = await call(`Bearer ${key.key}`);
      await expectProblem(response, 401, "revoked_api_key");
      expect(response.headers.get("www-authenticate")).toContain('error="invalid_token"');
      expect((await committed(key.id)).records).toHaveLength(0);
    });
  });
}

/** The admin-token checks every /admin route must pass: none is a 401, a wrong one (or an API key) a 403. */
export function describeAdminChecks(route: RouteUnderTest): void {
  describe(`${route.method} ${route.path} requires the admin token`, () => {
    const call = (authorization?: string) =>
      edge(route.path, { key: null, init: init(route, authorization) });

    it("refuses a request without a token: 401 with a Bearer challenge", async () => {
      const response = await call();
      await expectProblem(response, 401, "missing_api_key");
      expect(response.headers.get("www-authenticate")).toBe('Bearer realm="clip-edge-admin"');
    });

    it.each([
      ["a wrong token", () => "Bearer not-the-admin-token"],
      ["the token with one character changed", () => `Bearer ${env.ADMIN_TOKEN.slice(0, -1)}x`],
      ["the token as another scheme", () => `Basic ${env.ADMIN_TOKEN}`],
      ["an API key", async () => `Bearer ${(await createKey()).key}`],
    ])("refuses %s: 403 forbidden", async (_name, header) => {
      await expectProblem(await call(await header()), 403, "forbidden");
    });
  });
}
