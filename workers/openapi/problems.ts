import { ERROR_CODES, type ErrorCode, Problem, problemFor } from "../../src/api/index.ts";
import { type HeaderName, headerRefs } from "./components.ts";

/**
 * The error codes each kind of route can answer, in one place: a route lists the groups that apply to it and the
 * document shows every code at its status. The contract test holds live answers to these lists.
 */
export const ROUTE_ERRORS = {
  /** Every route: our own image fetcher is refused, and a bug is a 500. */
  any: ["forbidden", "internal_error"],
  /** Every /v1 route: the key, its rate limit, and the edge shedding load. */
  apiKey: [
    "missing_api_key",
    "malformed_api_key",
    "invalid_api_key",
    "revoked_api_key",
    "rate_limited",
    "overloaded",
  ],
  /** A billed /v1 route: the key's monthly quota. */
  billed: ["quota_exceeded"],
  /** A POST /v1 route: Idempotency-Key. */
  idempotent: ["invalid_request", "idempotency_in_progress", "idempotency_key_reused"],
  /** A route with a JSON (or multipart) body. */
  body: ["invalid_json", "invalid_request", "unsupported_media_type", "payload_too_large"],
  multipart: ["invalid_multipart"],
  /** A route with a query string. */
  query: ["invalid_request"],
  /** A route that takes images. */
  images: ["invalid_base64", "not_an_image", "image_too_large", "invalid_image_url"],
  /** A route that calls the GPU tier. */
  gpu: ["gpu_unavailable", "upstream_error", "upstream_timeout"],
  /** A route that reads or writes the collections database. */
  database: ["database_unavailable"],
  /** Every /admin route. */
  admin: ["missing_api_key", "forbidden"],
} as const satisfies Record<string, readonly ErrorCode[]>;

/** The codes of some groups plus a route's own, once each. */
export function errorsOf(...lists: readonly (readonly ErrorCode[])[]): ErrorCode[] {
  return [...new Set(lists.flat())];
}

// Which headers come with an error, by status. /v1 refusals after the key check also carry the RateLimit headers,
// which the 429 description says; they are not listed as required because a refusal before the check has none.
const HEADERS_BY_STATUS: Record<number, HeaderName[]> = {
  401: ["XRequestId", "WWWAuthenticate"],
  405: ["XRequestId", "Allow"],
  429: ["XRequestId", "RetryAfter"],
  500: ["XRequestId", "RetryAfter"],
  503: ["XRequestId", "RetryAfter"],
  504: ["XRequestId", "RetryAfter"],
};

/** The OpenAPI extension on each error response listing its codes, which the contract test reads. */
export const PROBLEM_CODES_EXTENSION = "x-problem-codes";

/**
 * The error responses of an operation: one per status, `application/problem+json` with the `Problem` schema, its
 * description listing the codes that come with that status.
 */
export function problemResponses(codes: readonly ErrorCode[]): Record<number, object> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) {
    const { status } = ERROR_CODES[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return Object.fromEntries(
    [...byStatus.entries()]
      .sort(([a], [b]) => a - b)
      .map(([status, list]) => [
        status,
        {
          description: [
            ...list.map((code) => `\`${code}\`: ${ERROR_CODES[code].title}.`),
            ...(status === 429 ? ["Carries `RateLimit` and `RateLimit-Policy` like every /v1 answer."] : []),
          ].join(" "),
          headers: headerRefs(...(HEADERS_BY_STATUS[status] ?? ["XRequestId"])),
          content: {
            "application/problem+json": { schema: Problem, example: exampleProblem(list[0] as ErrorCode) },
          },
          [PROBLEM_CODES_EXTENSION]: list,
        },
      ]),
  );
}

/** An example of a code's problem document, for the document's error responses. */
function exampleProblem(code: ErrorCode) {
  return problemFor(
    code,
    `${ERROR_CODES[code].title} (what exactly, for the developer)`,
    "req_4f1c2a9e0b7d4c3a8e5f6a7b8c9d0e1f",
  );
}
