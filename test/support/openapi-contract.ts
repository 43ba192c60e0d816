import { type Schema, Validator } from "@cfworker/json-schema";

/**
 * Checks answers against an OpenAPI 3.1 document: the status is one the operation documents, the Content-Type one
 * it documents for that status, the required headers are there, a JSON body is valid against the schema (JSON
 * Schema 2020-12, with @cfworker/json-schema: ajv compiles code, which workerd forbids), and a problem's `code` is one
 * the operation lists for that status (`x-problem-codes`). Runs in workerd and in Node alike.
 */

type Json = Record<string, unknown>;
interface Operation {
  path: string;
  responses: Record<string, Json>;
}

export interface OpenApiDocument {
  paths: Record<string, Record<string, Operation & Json>>;
  components: { schemas: Record<string, Json>; headers: Record<string, Json & { required?: boolean }> };
}

const PROBLEM_CODES_EXTENSION = "x-problem-codes";
const PROBLEM = { $ref: "#/components/schemas/Problem" };

export interface ContractChecker {
  /** Errors of a value against a schema of the document ("" when valid). */
  schemaErrors(schema: Json, value: unknown): string;
  /** The documented operation for a method and a concrete path, e.g. GET /admin/keys/key_1 → /admin/keys/{id}. */
  operationFor(method: string, pathname: string): Operation | undefined;
  /** Throws, naming what differs, when an answer is not what the document promises. */
  checkContract(request: { method: string; url: string }, response: Response): Promise<void>;
}

/** A checker for one document; its schema validators are compiled once each. */
export function contractChecker(document: unknown): ContractChecker {
  const DOCUMENT = document as OpenApiDocument;

  // Components move to $defs, where a 2020-12 validator resolves "#/$defs/…"; and every object is closed, so a
  // field the document does not declare (a leak, a typo) fails the check. The published document stays open, so
  // clients keep working when fields are added.
  const DEFS = closeObjects(
    JSON.parse(JSON.stringify(DOCUMENT.components.schemas).replaceAll('"#/components/schemas/', '"#/$defs/')),
  ) as Record<string, Schema>;
  const validators = new Map<string, Validator>();

  function validatorFor(schema: Json): Validator {
    const key = JSON.stringify(schema);
    let validator = validators.get(key);
    if (!validator) {
      const root = closeObjects(JSON.parse(key.replaceAll('"#/components/schemas/', '"#/$defs/'))) as Json;
      validator = new Validator({ ...root, $defs: DEFS } as Schema, "2020-12", false);
      validators.set(key, validator);
    }
    return validator;
  }

  function schemaErrors(schema: Json, value: unknown): string {
    const result = validatorFor(schema).validate(value);
    return result.valid
      ? ""
      : result.errors
          .slice(0, 6)
          .map((e) => `${e.instanceLocation}: ${e.error}`)
          .join("; ");
  }

  function operationFor(method: string, pathname: string): Operation | undefined {
    const segments = pathname.split("/");
    for (const [template, item] of Object.entries(DOCUMENT.paths)) {
      const parts = template.split("/");
      const matches =
        parts.length === segments.length &&
        parts.every((part, i) => (part.startsWith("{") ? (segments[i] ?? "") !== "" : part === segments[i]));
      const operation = item[method.toLowerCase() === "head" ? "get" : method.toLowerCase()];
      if (matches && operation) return { ...operation, path: template };
    }
    return undefined;
  }

  async function checkContract(request: { method: string; url: string }, response: Response): Promise<void> {
    const { pathname } = new URL(request.url);
    const where = `${request.method} ${pathname} → ${response.status}`;
    const fail = (what: string) => {
      throw new Error(`contract: ${where}: ${what}`);
    };
    const type = (response.headers.get("content-type") ?? "").split(";")[0]?.trim() ?? "";
    const operation = operationFor(request.method, pathname);
    if (!operation) {
      // No such operation: a refusal as a problem — the router's 404 or 405, or whatever refused it first (a
      // missing key, our own image fetcher).
      if (response.status < 400) fail("no documented operation answers this");
      if (type !== "application/problem+json") fail(`content type ${type}, not a problem`);
      const errors = schemaErrors(PROBLEM, await response.clone().json());
      if (errors) fail(errors);
      return;
    }
    const documented = operation.responses[String(response.status)];
    if (!documented)
      return fail(`status not documented (has ${Object.keys(operation.responses).join(", ")})`);
    for (const [name, ref] of Object.entries(
      (documented.headers ?? {}) as Record<string, { $ref: string }>,
    )) {
      const component = DOCUMENT.components.headers[ref.$ref.split("/").pop() ?? ""];
      if (component?.required && !response.headers.has(name)) fail(`required header ${name} missing`);
    }
    const content = documented.content as Record<string, { schema: Json }> | undefined;
    if (!content) return;
    const media = content[type];
    if (!media) return fail(`content type "${type}" not documented (has ${Object.keys(content).join(", ")})`);
    if (request.method === "HEAD" || !type.endsWith("json")) return;
    const body: unknown = await response.clone().json();
    const errors = schemaErrors(media.schema, body);
    if (errors) fail(`${errors}\n${JSON.stringify(body).slice(0, 400)}`);
    const status = (body as { status?: unknown }).status;
    if (type === "application/problem+json" && status !== response.status)
      fail(`the problem's status ${status} is not the HTTP status`);
    const codes = documented[PROBLEM_CODES_EXTENSION] as string[] | undefined;
    const code = (body as { code?: string }).code;
    if (codes && !codes.includes(code ?? ""))
      fail(`problem code ${code} not documented (has ${codes.join(", ")})`);
  }

  return { schemaErrors, operationFor, checkContract };
}

/** Sets `additionalProperties: false` on every object schema that declares properties and says nothing else. */
function closeObjects(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(closeObjects);
  if (!node || typeof node !== "object") return node;
  const copy = Object.fromEntries(
    Object.entries(node).map(([key, value]) => [key, closeObjects(value)]),
  ) as Json;
  if (copy.properties && copy.additionalProperties === undefined) copy.additionalProperties = false;
  return copy;
}

export interface ExampleCall {
  method: string;
  /** The operation's path template, e.g. /v1/collections/{name}/items/{id}. */
  template: string;
  /** A concrete path: {name} is the collection the calls create, {id} the key or the item the examples make. */
  path: string;
  /** The operation's documented JSON request example, if it has one. */
  example: unknown;
  /** Whether the operation requires a body. */
  bodyRequired: boolean;
  auth: "api" | "admin" | "none";
}

/** The collection the example calls create and use. */
export const EXAMPLE_COLLECTION = "contract";

/**
 * A policy whose category is the one the examples route's documented example names, and enough labelled examples
 * (2 in it, 2 not) for the calibrate route's example to succeed, whatever order the operations run in.
 */
export const CONTRACT_POLICY = {
  name: "contract",
  categories: [{ name: "weapons", concepts: ["a photo of a gun", "a photo of a knife"] }],
};
export const CONTRACT_EXAMPLES = {
  examples: [
    { text: "a photo of a rifle", categories: ["weapons"] },
    { text: "a photo of a pistol", categories: ["weapons"] },
    { text: "a photo of a kitchen", categories: [] },
    { text: "a photo of a garden", categories: [] },
  ],
};

/**
 * Every operation of a document as a call with its own request example, in an order where each finds what it needs:
 * the collection created before its items, items upserted before they are read, deletes and revokes last.
 */
export function exampleCalls(
  document: unknown,
  ids: { keyId: string; itemId: string; labelSetId: string; policyId: string },
): ExampleCall[] {
  const doc = document as OpenApiDocument;
  const rank = (method: string, template: string) =>
    method === "PUT"
      ? 0
      : template.endsWith("/items") && method === "POST"
        ? 1
        : method === "DELETE"
          ? 3
          : template.endsWith("/revoke")
            ? 4
            : 2;
  return Object.entries(doc.paths)
    .flatMap(([template, item]) =>
      Object.entries(item).map(([method, op]) => {
        const body = (op as Json).requestBody as
          | { required?: boolean; content: Record<string, { example?: unknown }> }
          | undefined;
        const auth = template.startsWith("/v1/") ? "api" : template.startsWith("/admin/") ? "admin" : "none";
        const id = template.startsWith("/admin/")
          ? ids.keyId
          : template.startsWith("/v1/label-sets/")
            ? ids.labelSetId
            : template.startsWith("/v1/moderation/policies/")
              ? ids.policyId
              : ids.itemId;
        return {
          method: method.toUpperCase(),
          template,
          path: template.replace("{name}", EXAMPLE_COLLECTION).replace("{id}", encodeURIComponent(id)),
          example: body?.content["application/json"]?.example,
          bodyRequired: body?.required === true,
          auth,
        } satisfies ExampleCall;
      }),
    )
    .sort(
      (a, b) =>
        rank(a.method, a.template) - rank(b.method, b.template) || b.template.length - a.template.length,
    );
}
