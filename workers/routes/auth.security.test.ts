import { describe, expect, it } from "vitest";
import {
  describeAdminChecks,
  describeApiKeyChecks,
  registeredRoutes,
} from "../../test/support/workers/auth-checks.ts";

// The routes come from the app itself, so a route added later is checked without anyone remembering to.
const v1 = registeredRoutes("/v1/");
const adminRoutes = registeredRoutes("/admin/");

describe("the shared security checks", () => {
  it("cover every /v1 and /admin route the app registers", () => {
    const names = (routes: typeof v1) => routes.map((r) => `${r.method} ${r.path}`);
    expect(names(v1)).toEqual(
      expect.arrayContaining(["GET /v1/models", "POST /v1/classify", "POST /v1/embeddings", "GET /v1/usage"]),
    );
    expect(names(adminRoutes)).toEqual(
      expect.arrayContaining([
        "POST /admin/keys",
        "GET /admin/keys",
        "GET /admin/keys/id-0",
        "POST /admin/keys/id-0/revoke",
        "GET /admin/usage",
      ]),
    );
  });
});

for (const route of [...v1, { method: "GET", path: "/v1/no-such-route" }]) describeApiKeyChecks(route);
for (const route of adminRoutes) describeAdminChecks(route);
