import { describe, expect, it } from "vitest";
import { IMAGE_FETCH_USER_AGENT } from "../../src/net/index.ts";
import { admin, createKey, edge } from "../../test/support/workers/billing.ts";
import { DOCUMENT } from "../../test/support/workers/contract.ts";

type Json = Record<string, unknown>;
const METHODS = ["get", "post", "put", "patch", "delete"];
const operations = Object.entries(DOCUMENT.paths).flatMap(([path, item]) =>
  METHODS.filter((m) => item[m]).map((method) => ({ method, path, op: item[method] as Json })),
);

/** Each operation called with its own documented example, then with something it must refuse. */
describe("live answers match the document (every answer of every Worker test is also checked)", async () => {
  const created = await createKey({ plan: "wide" });
  const { key } = created;
  const pathFor = (path: string) => path.replace("{id}", created.id);
  const call = (
    o: { method: string; path: string; op: Json },
    example: unknown,
    auth: "key" | "admin" | "none",
  ) => {
    const init: RequestInit = { method: o.method.toUpperCase() };
    if (example !== undefined) {
      init.body = JSON.stringify(example);
      init.headers = { "content-type": "application/json" };
    }
    if (auth === "admin") return admin(pathFor(o.path), init);
    return edge(pathFor(o.path), { key: auth === "key" ? key : null, init });
  };
  const exampleOf = (op: Json) =>
    (op.requestBody as { content: Record<string, { example?: unknown }> } | undefined)?.content[
      "application/json"
    ]?.example;
  const authOf = (path: string) =>
    path.startsWith("/v1/") ? "key" : path.startsWith("/admin/") ? "admin" : "none";

  it.each(operations.filter((o) => !o.path.endsWith("/revoke")))(
    "$method $path answers its request example",
    async (o) => {
      const response = await call(o, exampleOf(o.op), authOf(o.path));
      expect(response.status, await response.clone().text()).toBeLessThan(300);
    },
  );

  it.each(operations.filter((o) => o.op.requestBody))("$method $path refuses an empty object", async (o) => {
    const response = await call(o, {}, authOf(o.path));
    expect(response.status).toBe(400);
  });

  it.each(operations.filter((o) => o.path.startsWith("/v1/") || o.path.startsWith("/admin/")))(
    "$method $path refuses a request without credentials",
    async (o) => {
      const response = await call(o, exampleOf(o.op), "none");
      expect(response.status).toBe(401);
    },
  );

  it.each(operations)("$method $path refuses clip-edge's own image fetcher", async (o) => {
    const response = await edge(pathFor(o.path), {
      key,
      init: { method: o.method.toUpperCase(), headers: { "user-agent": IMAGE_FETCH_USER_AGENT } },
    });
    expect(response.status).toBe(403);
  });

  it("revokes with its example, after every other call", async () => {
    const response = await admin(`/admin/keys/${created.id}/revoke`, { method: "POST" });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { status: string }).status).toBe("revoked");
  });
});
