import * as z from "zod";

/**
 * The public API's closed set of error codes, each with its HTTP status and a one-line title. Every error response
 * is RFC 9457 `application/problem+json` naming one of these; docs/errors.md explains each one.
 */
export const ERROR_CODES = {
  // Request shape
  invalid_json: { status: 400, title: "The body is not valid JSON" },
  invalid_request: { status: 400, title: "The request does not match the schema" },
  invalid_multipart: { status: 400, title: "The multipart body is malformed" },
  unsupported_media_type: { status: 415, title: "Send application/json or multipart/form-data" },
  payload_too_large: { status: 413, title: "The body is larger than the limit" },
  // Inputs
  invalid_base64: { status: 400, title: "An image's base64 does not decode" },
  not_an_image: { status: 400, title: "An input's bytes are not an image in a supported format" },
  image_too_large: { status: 413, title: "An image, or all images together, exceed the byte limit" },
  invalid_image_url: { status: 400, title: "An image URL is not an https URL we may fetch" },
  all_inputs_failed: { status: 422, title: "Every image in the request failed" },
  image_decode_failed: {
    status: 422,
    title: "An image could not be decoded (corrupt, truncated or too many pixels)",
  },
  model_not_found: { status: 404, title: "The requested model is not served here" },
  no_caption_bank: { status: 404, title: "This deployment has no caption bank" },
  // Routing
  not_found: { status: 404, title: "No such route" },
  key_not_found: { status: 404, title: "No such API key" },
  // Collections
  collection_not_found: { status: 404, title: "No such collection for this account" },
  item_not_found: { status: 404, title: "No such item in the collection" },
  model_mismatch: {
    status: 409,
    title: "The collection or label set belongs to another model than the one served here",
  },
  storage_limit_reached: {
    status: 409,
    title: "The account's plan holds no more collections, items, label sets or labels per set",
  },
  label_set_not_found: { status: 404, title: "No such label set for this account" },
  label_set_not_ready: { status: 409, title: "The label set is still being built, or its build failed" },
  policy_not_found: { status: 404, title: "No such moderation policy for this account" },
  not_enough_examples: { status: 409, title: "The policy has too few labelled examples to calibrate" },
  method_not_allowed: { status: 405, title: "Method not allowed on this route" },
  // Keys, limits, billing
  missing_api_key: { status: 401, title: "Send Authorization: Bearer <key>" },
  malformed_api_key: { status: 401, title: "The API key is not in the clip_live_… format" },
  invalid_api_key: { status: 401, title: "The API key is not known" },
  revoked_api_key: { status: 401, title: "The API key was revoked" },
  forbidden: { status: 403, title: "The credentials do not allow this" },
  rate_limited: { status: 429, title: "Too many requests per second for this key's plan" },
  quota_exceeded: { status: 429, title: "This key's monthly quota is used up" },
  idempotency_in_progress: { status: 409, title: "A request with this Idempotency-Key is still running" },
  idempotency_key_reused: { status: 422, title: "This Idempotency-Key was used with a different request" },
  // Upstream
  overloaded: { status: 503, title: "The edge is too busy to answer this request in time" },
  gpu_unavailable: { status: 503, title: "No inference backend can take the request right now" },
  upstream_error: { status: 502, title: "The inference backend answered with an error" },
  upstream_timeout: { status: 504, title: "The inference backend did not answer in time" },
  database_unavailable: { status: 503, title: "The collections database could not answer right now" },
  internal_error: { status: 500, title: "Something failed on our side" },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export const DOCS_BASE = "https://clip-edge.dev/docs/errors";

const codes = Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]];

/** The body of every error response (RFC 9457), with extension members `code`, `request_id` and `errors`. */
export const Problem = z
  .object({
    type: z.string().meta({ description: "A link to this code's entry in the error docs." }),
    title: z.string(),
    status: z.int().min(400).max(599),
    detail: z.string().meta({ description: "What exactly was wrong, for a developer (not for end users)." }),
    code: z
      .enum(codes)
      .meta({ description: "The closed set of error codes; branch on this, never on `detail`." }),
    request_id: z.string().meta({ description: "Also in `X-Request-Id`; quote it when asking for support." }),
    errors: z
      .array(
        z.object({
          pointer: z
            .string()
            .meta({ description: "JSON pointer to the offending field, e.g. /images/2/base64." }),
          detail: z.string(),
        }),
      )
      .optional()
      .meta({ description: "Per-field problems, for validation errors." }),
  })
  .meta({ id: "Problem", description: "An RFC 9457 problem document; served as application/problem+json." });
export type Problem = z.infer<typeof Problem>;

/**
 * Builds a problem document for a code.
 *
 * @example problemFor("invalid_json", "Unexpected token } at 14", "req_123").status === 400
 */
export function problemFor(
  code: ErrorCode,
  detail: string,
  requestId: string,
  errors?: Problem["errors"],
): Problem {
  const { status, title } = ERROR_CODES[code];
  return {
    type: `${DOCS_BASE}#${code}`,
    title,
    status,
    detail,
    code,
    request_id: requestId,
    ...(errors?.length ? { errors } : {}),
  };
}
