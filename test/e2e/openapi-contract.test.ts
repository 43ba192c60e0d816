import { Validator } from "@seriousme/openapi-schema-validator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EdgeStack, startEdgeStack } from "../support/edge-stack.ts";
import { modelPresent } from "../support/gpu-service.ts";
import { type ContractChecker, contractChecker } from "../support/openapi-contract.ts";

type Json = Record<string, unknown>;
interface Operation {
  method: string;
  path: string;
  example: unknown;
}

/**
 * The contract over real HTTP: the document the running edge serves at /openapi.json is valid OpenAPI 3.1, and
 * every operation in it, called with its own request example (and refused without credentials or with an empty
 * body), answers as that document says — through workerd, the signed batch and the GPU service.
 */
describe.skipIf(!modelPresent())("end to end: the served OpenAPI document and live answers agree", () => {
  let stack: EdgeStack;
  let document: Json;
  let checker: ContractChecker;
  let operations: Operation[];
  let keyId: string;

  beforeAll(async () => {
    stack = await startEdgeStack();
    document = (await (await fetch(`${stack.edgeUrl}/openapi.json`)).json()) as Json;
    checker = contractChecker(document);
    operations = Object.entries(document.paths as Record<string, Record<string, Json>>).flatMap(
      ([path, item]) =>
        Object.entries(item).map(([method, op]) => ({
          method: method.toUpperCase(),
          path,
          example: (op.requestBody as { content: Record<string, { example?: unknown }> } | undefined)
            ?.content["application/json"]?.example,
        })),
    );
    const key = await call({ method: "POST", path: "/admin/keys", example: { name: "contract" } }, "admin");
    keyId = ((await key.json()) as { id: string }).id;
  }, 180_000);
  afterAll(() => stack?.stop());

  async function call(o: Operation, auth: "api" | "admin" | "none", body: unknown = o.example) {
    const url = `${stack.edgeUrl}${o.path.replace("{id}", keyId)}`;
    const headers: Record<string, string> = {
      ...(auth === "api" ? stack.apiHeaders : auth === "admin" ? stack.adminHeaders : {}),
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    };
    const init = { method: o.method, headers, body: body === undefined ? undefined : JSON.stringify(body) };
    const response = await fetch(url, init);
    await checker.checkContract({ method: o.method, url }, response);
    return response;
  }
  const authOf = (path: string) =>
    path.startsWith("/v1/") ? "api" : path.startsWith("/admin/") ? "admin" : "none";

  it("serves a valid OpenAPI 3.1 document with every route", async () => {
    const result = await new Validator().validate(structuredClone(document));
    expect(result.errors ?? []).toEqual([]);
    expect(operations.map((o) => `${o.method} ${o.path}`)).toEqual(
      expect.arrayContaining([
        "POST /v1/classify",
        "POST /v1/embeddings",
        "POST /v1/captions",
        "GET /openapi.json",
      ]),
    );
  });

  it("answers every operation's own request example as documented (revoking last)", async () => {
    const ordered = [...operations].sort(
      (a, b) => Number(a.path.endsWith("/revoke")) - Number(b.path.endsWith("/revoke")),
    );
    for (const o of ordered) {
      const response = await call(o, authOf(o.path));
      expect(response.status, `${o.method} ${o.path}: ${await response.clone().text()}`).toBeLessThan(300);
    }
  });

  it("refuses, as documented, requests without credentials and empty bodies", async () => {
    for (const o of operations.filter((o) => o.path !== "/healthz" && o.path !== "/openapi.json")) {
      expect((await call(o, "none")).status, `${o.method} ${o.path}`).toBe(401);
      if (o.example !== undefined)
        expect((await call(o, authOf(o.path), {})).status, `${o.method} ${o.path}`).toBe(400);
    }
  });
});
