import type { Context } from "hono";
import { type ErrorCode, type Problem, problemFor } from "../src/api/index.ts";

export interface ApiErrorOptions {
  /** Per-field problems, each with a JSON pointer into the request. */
  errors?: Problem["errors"];
  /** Adds Retry-After (seconds). */
  retryAfterSeconds?: number;
  /** Extra response headers, e.g. WWW-Authenticate. */
  headers?: Record<string, string>;
  /**
   * Logged once, at info level, by the error handler: for refusals the operators should see in the logs although
   * they are not bugs (a client that went away mid-body). Never request contents or secrets.
   */
  log?: string;
}

/**
 * An error with a public code, thrown by routes and middleware and turned into an RFC 9457 response by the one
 * error handler. Anything else thrown is a bug: it is logged and answered with a bare 500.
 *
 * @example throw new ApiError("invalid_base64", "images[2].base64 is not base64", { errors: [{ pointer: "/images/2/base64", detail: "…" }] })
 */
export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly options: ApiErrorOptions;

  constructor(code: ErrorCode, detail: string, options: ApiErrorOptions = {}) {
    super(detail);
    this.name = "ApiError";
    this.code = code;
    this.options = options;
  }
}

/** Writes an RFC 9457 problem response carrying the request id (also in X-Request-Id) and a docs link. */
export function problemResponse(
  c: Context,
  code: ErrorCode,
  detail: string,
  options: ApiErrorOptions = {},
): Response {
  const requestId = c.get("requestId") ?? "unknown";
  const body = problemFor(code, detail, requestId, options.errors);
  const headers: Record<string, string> = {
    "content-type": "application/problem+json",
    "x-request-id": requestId,
    ...options.headers,
  };
  if (options.retryAfterSeconds !== undefined)
    headers["retry-after"] = String(Math.max(1, Math.ceil(options.retryAfterSeconds)));
  return new Response(JSON.stringify(body), { status: body.status, headers });
}

/** 422 `all_inputs_failed`: every image of the request failed on the GPU tier (nothing is billed). In request order. */
export function allImagesFailed(failures: readonly { code: string; message: string }[]): ApiError {
  const errors = failures.map(({ code, message }, i) => ({
    pointer: `/images/${i}`,
    detail: `${code}: ${message}`,
  }));
  return new ApiError("all_inputs_failed", "no image could be decoded; nothing was billed", { errors });
}
