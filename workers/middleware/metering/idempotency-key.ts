import type { Context } from "hono";
import { API_LIMITS } from "../../../src/api/index.ts";
import { concatBytes } from "../../../src/streams/read-capped.ts";
import type { StoredResponse } from "../../billing/key-meter/types.ts";
import { ApiError } from "../../errors.ts";
import { readBodyStream } from "../../request/read-body.ts";

const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;
const encoder = new TextEncoder();

/** Headers that belong to one exchange, not to the stored response a replay repeats. */
const NOT_REPLAYED = new Set(["content-length", "x-request-id", "ratelimit", "ratelimit-policy"]);

export interface IdempotencyRequest {
  key: string;
  /** SHA-256 over the method, path, media type and body: the same key with another request is a 422. */
  fingerprint: string;
}

/**
 * Reads `Idempotency-Key` (draft-ietf-httpapi-idempotency-key-header: a string, quoted or not) from a POST and
 * fingerprints the request. Returns undefined without the header, or when the body is over the size limit (the
 * route refuses it, and nothing is remembered). A malformed key is a 400.
 *
 * @example const idem = await readIdempotencyKey(c) // { key: "8e03978e-…", fingerprint: "3f…" }
 */
export async function readIdempotencyKey(c: Context): Promise<IdempotencyRequest | undefined> {
  if (c.req.method !== "POST") return undefined;
  const header = c.req.header("idempotency-key");
  if (header === undefined) return undefined;
  const trimmed = header.trim();
  const key = /^".*"$/.test(trimmed) ? trimmed.slice(1, -1) : trimmed;
  if (!KEY_PATTERN.test(key))
    throw new ApiError("invalid_request", "Idempotency-Key must be 1 to 255 visible ASCII characters", {
      errors: [{ pointer: "/headers/idempotency-key", detail: `got ${key.length} characters` }],
    });
  const fingerprint = await fingerprintRequest(c.req.raw);
  return fingerprint === undefined ? undefined : { key, fingerprint };
}

/**
 * A digest of what makes two requests the same. Multipart bodies are digested part by part (names, values, file
 * bytes) rather than as bytes, because a client that rebuilds the form for a retry picks a new boundary.
 */
export async function fingerprintRequest(
  request: Request,
  maxBytes: number = API_LIMITS.maxBodyBytes,
): Promise<string | undefined> {
  if (Number(request.headers.get("content-length") ?? 0) > maxBytes) return undefined;
  const read = await readBodyStream(request.clone().body, maxBytes);
  if (!read.ok) return undefined;
  const body = read.bytes;
  const contentType = request.headers.get("content-type") ?? "";
  const mediaType = contentType.split(";")[0]?.trim().toLowerCase() ?? "";
  const url = new URL(request.url);
  const parts: Uint8Array[] = [
    encoder.encode(`${request.method} ${url.pathname}${url.search}\n${mediaType}\n`),
  ];
  const formParts = mediaType === "multipart/form-data" ? await multipartParts(body, contentType) : undefined;
  parts.push(...(formParts ?? [body]));
  const digest = await crypto.subtle.digest("SHA-256", concatBytes(parts) as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The response to keep for replays: its status, its own headers and its exact body. */
export async function captureResponse(response: Response): Promise<StoredResponse> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    if (!NOT_REPLAYED.has(name.toLowerCase())) headers[name] = value;
  });
  return { status: response.status, headers, body: new Uint8Array(await response.arrayBuffer()) };
}

/** A stored response, sent again; `Idempotent-Replayed: true` tells the client so. */
export function replayResponse(stored: StoredResponse): Response {
  const headers = new Headers(stored.headers);
  headers.set("idempotent-replayed", "true");
  return new Response(stored.body, { status: stored.status, headers });
}

async function multipartParts(body: Uint8Array, contentType: string): Promise<Uint8Array[] | undefined> {
  let form: FormData;
  try {
    form = await new Response(body, { headers: { "content-type": contentType } }).formData();
  } catch {
    return undefined; // Malformed: the route answers 400; the bytes stand for the request.
  }
  const parts: Uint8Array[] = [];
  for (const [name, value] of form.entries()) {
    const bytes =
      typeof value === "string" ? encoder.encode(value) : new Uint8Array(await value.arrayBuffer());
    parts.push(
      encoder.encode(
        `${encoder.encode(name).length}:${name}${typeof value === "string" ? "s" : "f"}${bytes.length}:`,
      ),
      bytes,
    );
  }
  return parts;
}
