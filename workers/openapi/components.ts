import { API_LIMITS } from "../../src/api/index.ts";
import type { App } from "../context.ts";

// The document's shared parts that are not zod schemas: security schemes, headers and parameters, each named once
// and referenced by every operation that has it (client generators then share one type per header).

const header = (description: string, schema: object, required = false) => ({ description, schema, required });

export const HEADERS = {
  XRequestId: header(
    "This request's id: yours from `X-Request-Id` when it is 8–128 of `[A-Za-z0-9._:-]`, else ours (`req_…`). Quote it for support.",
    { type: "string" },
    true,
  ),
  RateLimitPolicy: header(
    'The key\'s limits (draft-ietf-httpapi-ratelimit-headers): `"rate";q=<burst>;w=<seconds>`, and the monthly `"images"`, `"texts"`, `"item_writes"` and `"queries"` quotas.',
    { type: "string" },
    true,
  ),
  RateLimit: header(
    'What is left of each limit and when it refills: `"rate";r=<remaining>;t=<seconds>, "images";r=…;t=…, "texts";r=…;t=…, "item_writes";r=…;t=…, "queries";r=…;t=…` (units reserved by requests still running are not left).',
    { type: "string" },
    true,
  ),
  RetryAfter: header("Seconds after which retrying may succeed.", { type: "integer", minimum: 1 }),
  IdempotentReplayed: header(
    "`true` when this is the stored answer to an earlier request with the same `Idempotency-Key` (not billed again).",
    { type: "string", enum: ["true"] },
  ),
  XClipModel: header("The model that computed the answer.", { type: "string" }, true),
  XClipPreprocessing: header("The image preprocessing's version.", { type: "string" }, true),
  WWWAuthenticate: header("The bearer challenge (RFC 6750).", { type: "string" }, true),
  Allow: header("The methods this path takes.", { type: "string" }, true),
} as const;

export type HeaderName = keyof typeof HEADERS;

/** The header names as they go on the wire. */
export const HEADER_WIRE_NAMES: Record<HeaderName, string> = {
  XRequestId: "X-Request-Id",
  RateLimitPolicy: "RateLimit-Policy",
  RateLimit: "RateLimit",
  RetryAfter: "Retry-After",
  IdempotentReplayed: "Idempotent-Replayed",
  XClipModel: "X-Clip-Model",
  XClipPreprocessing: "X-Clip-Preprocessing",
  WWWAuthenticate: "WWW-Authenticate",
  Allow: "Allow",
};

/** Response headers by component name, as `{ "X-Request-Id": { $ref } }`. */
export function headerRefs(...names: HeaderName[]): Record<string, { $ref: string }> {
  return Object.fromEntries(
    names.map((name) => [HEADER_WIRE_NAMES[name], { $ref: `#/components/headers/${name}` }]),
  );
}

export const PARAMETERS = {
  IdempotencyKey: {
    name: "Idempotency-Key",
    in: "header",
    required: false,
    description:
      "Makes a POST safe to retry (draft-ietf-httpapi-idempotency-key-header): for 24 hours a retry with the same key and body gets the stored answer, billed once. 1–255 visible ASCII characters.",
    schema: { type: "string", minLength: 1, maxLength: 255 },
  },
  RequestId: {
    name: "X-Request-Id",
    in: "header",
    required: false,
    description:
      "Your own id for this request (8–128 of `[A-Za-z0-9._:-]`), echoed back and kept in billing.",
    schema: { type: "string", pattern: "^[A-Za-z0-9._:-]{8,128}$" },
  },
} as const;

export const parameterRef = (name: keyof typeof PARAMETERS) => ({ $ref: `#/components/parameters/${name}` });

export const SECURITY = {
  ApiKey: {
    type: "http",
    scheme: "bearer",
    bearerFormat: "clip_live_…",
    description: "An API key: `Authorization: Bearer clip_live_…`. Keys are created by the admin API.",
  },
  AdminToken: {
    type: "http",
    scheme: "bearer",
    description: "The deployment's admin token (`ADMIN_TOKEN`): `Authorization: Bearer <token>`.",
  },
} as const;

/** Registers every shared component once per app. */
export function registerComponents(registry: App["openAPIRegistry"]): void {
  for (const [name, scheme] of Object.entries(SECURITY))
    registry.registerComponent("securitySchemes", name, scheme);
  for (const [name, value] of Object.entries(HEADERS)) registry.registerComponent("headers", name, value);
  for (const [name, value] of Object.entries(PARAMETERS))
    registry.registerComponent("parameters", name, value);
}

export const DESCRIPTION = `CLIP served at the edge: zero-shot labels, captions by retrieval and embeddings for texts and images in one space.

Every error is an RFC 9457 \`application/problem+json\` document whose \`code\` is one of a closed set (see the
\`Problem\` schema and https://clip-edge.dev/docs/errors). Limits: request bodies at most ${API_LIMITS.maxBodyBytes} bytes, ${API_LIMITS.maxImages}
images per request, ${API_LIMITS.maxImageBytes} bytes per image. Every /v1 answer carries \`RateLimit-Policy\` and
\`RateLimit\`; POSTs take an \`Idempotency-Key\`.`;
