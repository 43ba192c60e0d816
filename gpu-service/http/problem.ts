import type { Context } from "hono";

/** The service's error codes, each with its HTTP status. */
export const SERVICE_ERRORS = {
  unauthorized: 401,
  malformed_frame: 400,
  invalid_input: 400,
  unsupported_version: 400,
  unsupported_media_type: 415,
  payload_too_large: 413,
  overloaded: 503,
  not_ready: 503,
  shutting_down: 503,
  timeout: 503,
  /** The backlog here would not clear before this request's deadline: the edge tries another backend at once. */
  shed: 503,
  not_found: 404,
  /** This deployment has no caption bank, so /v1/captions cannot answer (docs/captions.md says how to build one). */
  no_caption_bank: 404,
  /** /v1/fetch-image: the user's image URL was refused before connecting (private address, bad scheme …). */
  url_not_allowed: 400,
  /** /v1/fetch-image: the user's image URL could not be fetched; a 4xx, so it never trips the edge's breaker. */
  url_fetch_failed: 422,
  /** /v1/fetch-image: the image is over max_bytes. */
  image_too_large: 413,
  internal_error: 500,
} as const;
export type ServiceErrorCode = keyof typeof SERVICE_ERRORS;

/**
 * An RFC 9457 problem response. `retryAfterSeconds` adds Retry-After, which the edge's client honours when it picks
 * another backend or waits.
 */
export function problem(
  c: Context,
  code: ServiceErrorCode,
  detail: string,
  retryAfterSeconds?: number,
): Response {
  const status = SERVICE_ERRORS[code];
  const headers: Record<string, string> = { "content-type": "application/problem+json" };
  if (retryAfterSeconds !== undefined)
    headers["retry-after"] = String(Math.max(1, Math.ceil(retryAfterSeconds)));
  return c.body(
    JSON.stringify({ type: `urn:clip-edge:gpu:${code}`, title: code, status, code, detail }),
    status,
    headers,
  );
}
