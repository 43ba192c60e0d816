import { env } from "cloudflare:workers";
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { TEST_API_KEY } from "../../../test/support/workers/api-key.ts";
import { expectProblem } from "../../../test/support/workers/billing.ts";
import { provideServices } from "../../services/index.ts";
import { handleError } from "../problem/index.ts";
import { requestId } from "../request-id/index.ts";
import { adminAuth } from "./index.ts";

const TOKEN = env.ADMIN_TOKEN;

/** An app with the real services behind adminAuth, on these bindings; counts what its route served. */
function appWithAdminToken(bindings: Env = env) {
  let served = 0;
  const app = new Hono<{ Bindings: Env }>();
  app.use("*", requestId());
  app.use("*", provideServices());
  app.use("/admin/*", adminAuth());
  app.get("/admin/ping", (c) => {
    served++;
    return c.text("pong");
  });
  app.onError(handleError());
  const call = (authorization?: string) =>
    app.request("/admin/ping", { headers: authorization === undefined ? {} : { authorization } }, bindings);
  return { call, served: () => served };
}

describe("adminAuth", () => {
  it("the test deployment has a real admin token", () => {
    expect(TOKEN.length).toBeGreaterThanOrEqual(32);
  });

  it("refuses a request without a token: 401 missing_api_key with the admin realm's challenge", async () => {
    const { call, served } = appWithAdminToken();
    const response = await call();
    await expectProblem(response, 401, "missing_api_key");
    expect(response.headers.get("www-authenticate")).toBe('Bearer realm="clip-edge-admin"');
    expect(served()).toBe(0);
  });

  it.each([
    ["a wrong token", "Bearer not-the-admin-token"],
    [
      "the token with its last character changed",
      `Bearer ${TOKEN.slice(0, -1)}${TOKEN.endsWith("x") ? "y" : "x"}`,
    ],
    ["the token without its last character", `Bearer ${TOKEN.slice(0, -1)}`],
    ["the token with one more character", `Bearer ${TOKEN}0`],
    ["the token under another scheme", `Basic ${TOKEN}`],
    ["an empty bearer", "Bearer "],
    ["an API key", `Bearer ${TEST_API_KEY}`],
  ])("refuses %s: 403 forbidden, before the route", async (_name, authorization) => {
    const { call, served } = appWithAdminToken();
    const response = await call(authorization);
    await expectProblem(response, 403, "forbidden");
    expect(response.headers.get("www-authenticate")).toBeNull();
    expect(served()).toBe(0);
  });

  it("lets the right token through, the scheme in any case", async () => {
    const { call, served } = appWithAdminToken();
    for (const header of [`Bearer ${TOKEN}`, `bearer ${TOKEN}`]) {
      const response = await call(header);
      expect(response.status).toBe(200);
      expect(await response.text()).toBe("pong");
    }
    expect(served()).toBe(2);
  });

  it.each([
    ["unset", ""],
    ["blank", "   "],
  ])(
    "refuses everyone while ADMIN_TOKEN is %s: no presented token can equal it",
    async (_name, configured) => {
      const { call, served } = appWithAdminToken({ ...env, ADMIN_TOKEN: configured });
      await expectProblem(await call(), 401, "missing_api_key");
      for (const header of ["Bearer ", "Bearer    ", `Bearer ${TOKEN}`, "Bearer undefined", "Bearer null"])
        await expectProblem(await call(header), 403, "forbidden");
      expect(served()).toBe(0);
    },
  );
});
