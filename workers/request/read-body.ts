import type { Context } from "hono";
import type * as z from "zod";
import { API_LIMITS } from "../../src/api/index.ts";
import { type CappedRead, readCapped } from "../../src/streams/read-capped.ts";
import { ApiError } from "../errors.ts";

/**
 * The request body as bytes, refused past the limit before it is parsed: first from Content-Length, then while
 * streaming (a client may lie or stream without a length). The time it takes does not count against the deadline.
 */
export async function readBodyBytes(
  c: Context,
  maxBytes: number = API_LIMITS.maxBodyBytes,
): Promise<Uint8Array> {
  const declared = c.req.header("content-length");
  const tooLarge = () => new ApiError("payload_too_large", `the body is over the ${maxBytes}-byte limit`);
  if (declared !== undefined && Number(declared) > maxBytes) throw tooLarge();
  const started = Date.now();
  const read = await readBodyStream(c.req.raw.body, maxBytes);
  // The request's deadline covers its work, not a slow upload.
  c.get("scope").excludeUpload(Date.now() - started);
  if (!read.ok) throw tooLarge();
  return read.bytes;
}

/**
 * Reads a request body stream within `maxBytes`. A client that goes away (or cuts its body short) while sending is
 * not a bug: the request is dropped quietly — one info line, nothing billed — as whoever reads the body first.
 *
 * @example const read = await readBodyStream(request.clone().body, 24 << 20)
 */
export async function readBodyStream(
  stream: ReadableStream<Uint8Array> | null,
  maxBytes: number,
): Promise<CappedRead> {
  return readCapped(stream, maxBytes).catch((error: unknown) => {
    throw new ApiError("invalid_request", "the request body was not received in full", {
      log: `the client stopped sending its body (${(error as Error)?.message ?? error}); request dropped`,
    });
  });
}

export type BodyKind = "json" | "multipart";

/** Which parser the Content-Type asks for; anything else is a 415. */
export function bodyKind(c: Context, allowMultipart: boolean): BodyKind {
  const type = (c.req.header("content-type") ?? "").split(";")[0]?.trim().toLowerCase();
  if (type === "application/json") return "json";
  if (allowMultipart && type === "multipart/form-data") return "multipart";
  throw new ApiError(
    "unsupported_media_type",
    `Content-Type ${type ? `"${type}"` : "(none)"} is not accepted; send application/json${allowMultipart ? " or multipart/form-data" : ""}`,
  );
}

/**
 * Parses JSON bytes, with the parser's message on failure. A `__proto__` key is refused wherever it is: JavaScript
 * objects (and zod's records) would quietly turn it into a prototype instead of data.
 */
export function parseJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes), (key, value) => {
      if (key === "__proto__") throw new ApiError("invalid_request", 'a key may not be "__proto__"');
      return value;
    });
  } catch (error) {
    if (error instanceof ApiError) throw error;
    throw new ApiError("invalid_json", `the body is not valid JSON: ${(error as Error).message}`);
  }
}

/**
 * A JSON-only request body: 415 for another Content-Type (before reading), read within `maxBytes`, parsed and
 * validated against the schema.
 *
 * @example const request = await readJsonBody(c, EmbeddingsRequest)
 */
export async function readJsonBody<S extends z.ZodType>(
  c: Context,
  schema: S,
  maxBytes: number = API_LIMITS.maxBodyBytes,
): Promise<z.infer<S>> {
  bodyKind(c, false);
  return validate(schema, parseJson(await readBodyBytes(c, maxBytes)));
}

/** Validates against a schema; every issue becomes an entry with a JSON pointer to the offending field. */
export function validate<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw invalidRequest(result.error.issues);
}

/** 400 `invalid_request` for schema issues, each with a JSON pointer to the offending field. */
export function invalidRequest(issues: readonly z.core.$ZodIssue[]): ApiError {
  const errors = issues
    .slice(0, 20)
    .map((issue) => ({ pointer: toPointer(issue.path), detail: describeIssue(issue) }));
  const first = errors[0];
  return new ApiError(
    "invalid_request",
    first ? `${first.pointer || "/"}: ${first.detail}` : "invalid request",
    {
      errors,
    },
  );
}

function toPointer(path: readonly PropertyKey[]): string {
  return path.map((part) => `/${String(part).replaceAll("~", "~0").replaceAll("/", "~1")}`).join("");
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === "unrecognized_keys")
    return `unknown field${issue.keys.length > 1 ? "s" : ""}: ${issue.keys.join(", ")}`;
  if (issue.code === "invalid_union") return "does not match any accepted form (see the API docs)";
  return issue.message;
}
