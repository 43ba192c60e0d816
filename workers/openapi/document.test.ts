import { describe, expect, it } from "vitest";
import { ERROR_CODES, EXAMPLES } from "../../src/api/index.ts";
import { edge } from "../../test/support/workers/billing.ts";
import { checkContract, DOCUMENT, schemaErrors } from "../../test/support/workers/contract.ts";
import { createApp } from "../app.ts";
import { PROBLEM_CODES_EXTENSION } from "./problems.ts";

type Json = Record<string, unknown>;
const METHODS = ["get", "post", "put", "patch", "delete"];
const operations = Object.entries(DOCUMENT.paths).flatMap(([path, item]) =>
  METHODS.filter((m) => item[m]).map((method) => ({ method, path, op: item[method] as Json })),
);
const id = (o: { method: string; path: string }) => `${o.method.toUpperCase()} ${o.path}`;

/** Every node of the document with its JSON pointer. */
function* walk(node: unknown, pointer = ""): Generator<[string, Json]> {
  if (!node || typeof node !== "object") return;
  if (!Array.isArray(node)) yield [pointer, node as Json];
  for (const [key, value] of Object.entries(node)) yield* walk(value, `${pointer}/${key}`);
}

describe("the OpenAPI document", () => {
  it("has every route the app registers, and nothing it does not", () => {
    const registered = new Set(
      createApp()
        .routes.filter((r) => r.method !== "ALL")
        .map((r) => `${r.method} ${r.path.replaceAll(/:(\w+)/g, "{$1}")}`),
    );
    expect(new Set(operations.map(id))).toEqual(registered);
  });

  it("gives every operation an id, a summary, a description, its security and examples", () => {
    const ids = new Set<string>();
    for (const o of operations) {
      expect(o.op.operationId, id(o)).toMatch(/^[a-z][A-Za-z]+$/);
      ids.add(o.op.operationId as string);
      expect((o.op.summary as string).length, id(o)).toBeGreaterThan(5);
      expect((o.op.description as string).length, id(o)).toBeGreaterThan(40);
      expect(o.op.security, id(o)).toEqual(
        o.path.startsWith("/v1/")
          ? [{ ApiKey: [] }]
          : o.path.startsWith("/admin/")
            ? [{ AdminToken: [] }]
            : [],
      );
      const body = (o.op.requestBody as { content: Record<string, Json> } | undefined)?.content;
      if (body) expect(body["application/json"]?.example, `${id(o)} request example`).toBeDefined();
      const success = Object.entries(o.op.responses as Record<string, Json>).filter(([s]) => s < "300");
      // One success status, or two for create-or-get (201 created, 200 existed).
      expect(success.length, id(o)).toBeGreaterThanOrEqual(1);
      expect(success.length, id(o)).toBeLessThanOrEqual(2);
      // Every answer is JSON but the reference page's (GET /docs, HTML); each has an example either way.
      for (const [, ok] of success as [string, { content: Record<string, Json> }][])
        expect(
          (ok.content["application/json"] ?? ok.content["text/html"])?.example,
          `${id(o)} response example`,
        ).toBeDefined();
    }
    expect(ids.size).toBe(operations.length);
  });

  it("answers every error as application/problem+json and lists its codes, all from the closed set", () => {
    const problem = DOCUMENT.components.schemas.Problem as { properties: { code: { enum: string[] } } };
    expect(problem.properties.code.enum.sort()).toEqual(Object.keys(ERROR_CODES).sort());
    for (const o of operations) {
      for (const [status, response] of Object.entries(o.op.responses as Record<string, Json>)) {
        if (Number(status) < 400) continue;
        const codes = response[PROBLEM_CODES_EXTENSION] as (keyof typeof ERROR_CODES)[];
        expect(Object.keys(response.content as Json), `${id(o)} ${status}`).toEqual([
          "application/problem+json",
        ]);
        expect(codes.length, `${id(o)} ${status}`).toBeGreaterThan(0);
        for (const code of codes) expect(ERROR_CODES[code].status, code).toBe(Number(status));
        expect((response.headers as Json)["X-Request-Id"]).toEqual({
          $ref: "#/components/headers/XRequestId",
        });
      }
      const statuses = Object.keys(o.op.responses as Json);
      expect(statuses, `${id(o)} documents a 500`).toContain("500");
      if (o.path.startsWith("/v1/"))
        expect(statuses, `${id(o)} documents 401 and 429`).toEqual(expect.arrayContaining(["401", "429"]));
    }
  });

  it("documents the rate-limit headers on every /v1 answer and Idempotency-Key on every /v1 POST", () => {
    for (const o of operations.filter((o) => o.path.startsWith("/v1/"))) {
      const ok = Object.entries(o.op.responses as Record<string, Json>).find(([s]) => s < "300")?.[1] as Json;
      expect(Object.keys(ok.headers as Json), id(o)).toEqual(
        expect.arrayContaining(["RateLimit-Policy", "RateLimit"]),
      );
      if (o.method === "post") {
        expect(o.op.parameters, id(o)).toContainEqual({ $ref: "#/components/parameters/IdempotencyKey" });
        expect(Object.keys(ok.headers as Json), id(o)).toContain("Idempotent-Replayed");
      }
    }
  });

  it("has every example valid against its schema", () => {
    let checked = 0;
    for (const [pointer, node] of walk(DOCUMENT)) {
      if (!("example" in node) || !("schema" in node)) continue;
      expect(schemaErrors(node.schema as Json, node.example), pointer).toBe("");
      checked += 1;
    }
    expect(checked).toBeGreaterThanOrEqual(operations.length + 4);
  });

  it("uses oneOf of named components for unions, except the OpenAI-shaped inputs of embeddings and moderations", () => {
    const allowed = (pointer: string, members: Json[]) =>
      pointer === "/components/schemas/EmbeddingsRequest/properties/input" ||
      // OpenAI's moderation input: one item or a list of them.
      pointer === "/components/schemas/ModerationRequest/properties/input" ||
      pointer === "/components/schemas/EmbeddingInputItem" ||
      // A metadata value: a string, a number or a boolean (no object among them).
      pointer === "/components/schemas/MetadataValue" ||
      // A nullable reference.
      (members.length === 2 && members.some((m) => m.type === "null"));
    for (const [pointer, node] of walk(DOCUMENT.components.schemas, "/components/schemas")) {
      expect(node.anyOf, pointer).toBeUndefined();
      const members = node.oneOf as Json[] | undefined;
      if (!members || allowed(pointer, members)) continue;
      for (const member of members) expect(member.$ref, `${pointer}: an inline union member`).toBeDefined();
    }
    const item = DOCUMENT.components.schemas.EmbeddingInputItem as { oneOf: Json[] };
    expect(item.oneOf.filter((m) => m.$ref).map((m) => m.$ref)).toEqual([
      "#/components/schemas/TextEmbeddingInput",
      "#/components/schemas/ImageEmbeddingInput",
    ]);
  });

  it("names every object schema that appears twice", () => {
    const seen = new Map<string, string>();
    for (const [pointer, node] of walk(DOCUMENT)) {
      if (node.type !== "object" || !node.properties || /^\/components\/schemas\/[^/]+$/.test(pointer))
        continue;
      const key = JSON.stringify(node);
      expect(seen.get(key), `${pointer} repeats an inline object; name it`).toBeUndefined();
      seen.set(key, pointer);
    }
  });

  it("is served at /openapi.json without a key, listing this origin first", async () => {
    const response = await edge("/openapi.json", { key: null });
    expect(response.status).toBe(200);
    const served = (await response.json()) as { openapi: string; info: Json; servers: { url: string }[] };
    expect(served.openapi).toBe("3.1.0");
    expect(served.info.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(served.servers[0]?.url).toBe("https://edge.test");
    expect(served.servers.map((s) => s.url)).toContain("https://api.clip-edge.dev");
  });
});

describe("the contract check", () => {
  const request = new Request("https://edge.test/v1/models");
  const headers = {
    "content-type": "application/json",
    "x-request-id": "req_1",
    ratelimit: "r",
    "ratelimit-policy": "p",
  };
  const answer = (status: number, body: unknown, extra: Record<string, string> = {}) =>
    new Response(JSON.stringify(body), { status, headers: { ...headers, ...extra } });
  const models = { object: "list", data: [] };

  it("accepts an answer the document describes", async () => {
    await expect(checkContract(request, answer(200, models))).resolves.toBeUndefined();
  });

  it.each([
    ["a body off the schema", answer(200, { object: "list", data: [{ id: 1 }] }), /\/data\/0/],
    ["an undocumented status", answer(418, models), /status not documented/],
    ["an undocumented content type", answer(200, models, { "content-type": "text/plain" }), /content type/],
    [
      "a missing required header",
      new Response(JSON.stringify(models), { headers: { "content-type": "application/json" } }),
      /required header/,
    ],
    [
      "an undeclared field",
      answer(200, { ...models, secret: "leaked" }),
      /secret|additional|not allowed|False/i,
    ],
    [
      "a problem whose status is not the HTTP status",
      answer(
        401,
        { ...EXAMPLES.problem, code: "missing_api_key", status: 400 },
        { "content-type": "application/problem+json", "www-authenticate": "Bearer" },
      ),
      /not the HTTP status/,
    ],
    [
      "a problem code this operation does not list",
      answer(
        401,
        { ...EXAMPLES.problem, code: "invalid_json", status: 401 },
        { "content-type": "application/problem+json", "www-authenticate": "Bearer" },
      ),
      /problem code invalid_json not documented/,
    ],
  ])("refuses %s", async (_name, response, message) => {
    await expect(checkContract(request, response)).rejects.toThrow(message);
  });
});
