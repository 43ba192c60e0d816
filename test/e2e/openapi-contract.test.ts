import { Validator } from "@seriousme/openapi-schema-validator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EdgeStack, startEdgeStack } from "../support/edge-stack.ts";
import { modelPresent } from "../support/gpu-service.ts";
import {
  CONTRACT_EXAMPLES,
  CONTRACT_POLICY,
  type ContractChecker,
  contractChecker,
  type ExampleCall,
  exampleCalls,
} from "../support/openapi-contract.ts";

type Json = Record<string, unknown>;

/**
 * The contract over real HTTP: the document the running edge serves at /openapi.json is valid OpenAPI 3.1, and
 * every operation in it, called with its own request example (and refused without credentials or with an empty
 * body), answers as that document says — through workerd, the signed batch and the GPU service.
 */
describe.skipIf(!modelPresent())("end to end: the served OpenAPI document and live answers agree", () => {
  let stack: EdgeStack;
  let document: Json;
  let checker: ContractChecker;
  let calls: ExampleCall[];

  beforeAll(async () => {
    stack = await startEdgeStack({}, { postgres: true });
    document = (await (await fetch(`${stack.edgeUrl}/openapi.json`)).json()) as Json;
    checker = contractChecker(document);
    const key = await call({ method: "POST", path: "/admin/keys", auth: "admin" } as ExampleCall, {
      name: "contract",
    });
    const keyId = ((await key.json()) as { id: string }).id;
    const labelSet = await call({ method: "POST", path: "/v1/label-sets", auth: "api" } as ExampleCall, {
      name: "contract",
      labels: ["red circle"],
    });
    const labelSetId = ((await labelSet.json()) as { id: string }).id;
    const asApi = { method: "POST", auth: "api" } as const;
    const policy = await call({ ...asApi, path: "/v1/moderation/policies" } as ExampleCall, CONTRACT_POLICY);
    const policyId = ((await policy.json()) as { id: string }).id;
    await call(
      { ...asApi, path: `/v1/moderation/policies/${policyId}/examples` } as ExampleCall,
      CONTRACT_EXAMPLES,
    );
    calls = exampleCalls(document, { keyId, itemId: "red-circle.png", labelSetId, policyId });
  }, 180_000);
  afterAll(() => stack?.stop());

  async function call(o: ExampleCall, body: unknown = o.example, auth: ExampleCall["auth"] = o.auth) {
    const url = `${stack.edgeUrl}${o.path}`;
    const headers: Record<string, string> = {
      ...(auth === "api" ? stack.apiHeaders : auth === "admin" ? stack.adminHeaders : {}),
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    };
    const init = { method: o.method, headers, body: body === undefined ? undefined : JSON.stringify(body) };
    const response = await fetch(url, init);
    await checker?.checkContract({ method: o.method, url }, response);
    return response;
  }

  it("serves a valid OpenAPI 3.1 document with every route", async () => {
    const result = await new Validator().validate(structuredClone(document));
    expect(result.errors ?? []).toEqual([]);
    expect(calls.map((o) => `${o.method} ${o.template}`)).toEqual(
      expect.arrayContaining(["POST /v1/classify", "POST /v1/collections/{name}/query", "GET /openapi.json"]),
    );
  });

  it("answers every operation's own request example as documented (deletes and the revocation last)", async () => {
    for (const o of calls) {
      const response = await call(o);
      expect(response.status, `${o.method} ${o.path}: ${await response.clone().text()}`).toBeLessThan(300);
    }
  });

  it("refuses, as documented, requests without credentials and empty bodies", async () => {
    for (const o of calls.filter((o) => o.auth !== "none")) {
      expect((await call(o, o.example, "none")).status, `${o.method} ${o.path}`).toBe(401);
      if (o.bodyRequired) expect((await call(o, {})).status, `${o.method} ${o.path}`).toBe(400);
    }
  });
});
