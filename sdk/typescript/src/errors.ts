import type { components } from "./generated/openapi.gen.ts";

/**
 * The API's closed problem codes, plus the client's own: timeout / aborted / network_error when no answer came, and
 * invalid_response for a 2xx answer that is not JSON.
 */
export type ClipEdgeErrorCode =
  | components["schemas"]["Problem"]["code"]
  | "timeout"
  | "aborted"
  | "network_error"
  | "invalid_response";

/**
 * Every failure a call can end with. Branch on `code` (never on `message`); quote `requestId` to support.
 *
 * @example
 * try { await clip.classify({ image, labels }) } catch (e) {
 *   if (e instanceof ClipEdgeError && e.code === "rate_limited") console.log(`retry in ${e.retryAfter} s`);
 * }
 */
export class ClipEdgeError extends Error {
  override readonly name = "ClipEdgeError";
  /** The problem's code, or timeout / aborted / network_error when no answer came, invalid_response for non-JSON. */
  readonly code: ClipEdgeErrorCode;
  /** The HTTP status; 0 when no answer came. */
  readonly status: number;
  /** The problem's `request_id` (or the `X-Request-Id` header); undefined when no answer came. */
  readonly requestId: string | undefined;
  /** Seconds the server asked to wait (`Retry-After`), when it did. */
  readonly retryAfter: number | undefined;
  /** The whole problem document, when the answer was one. */
  readonly problem: components["schemas"]["Problem"] | undefined;

  constructor(init: {
    code: ClipEdgeErrorCode;
    status: number;
    message: string;
    requestId?: string;
    retryAfter?: number;
    problem?: components["schemas"]["Problem"];
    cause?: unknown;
  }) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.code = init.code;
    this.status = init.status;
    this.requestId = init.requestId;
    this.retryAfter = init.retryAfter;
    this.problem = init.problem;
  }
}

/** `Retry-After` in seconds, from its delta-seconds or HTTP-date form; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === "") return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, (date - now) / 1000);
}

/** Turns an error answer into a ClipEdgeError; a body that is not a problem document still gives status and id. */
export async function errorFromResponse(response: Response): Promise<ClipEdgeError> {
  const retryAfter = parseRetryAfter(response.headers.get("retry-after"));
  const headerId = response.headers.get("x-request-id") ?? undefined;
  const text = await response.text().catch(() => "");
  let problem: components["schemas"]["Problem"] | undefined;
  try {
    const parsed = JSON.parse(text) as Partial<components["schemas"]["Problem"]>;
    if (typeof parsed?.code === "string") problem = parsed as components["schemas"]["Problem"];
  } catch {
    // Not JSON (a proxy's HTML page, say): the status still tells what happened.
  }
  return new ClipEdgeError({
    code: problem?.code ?? (response.status >= 500 ? "internal_error" : "invalid_request"),
    status: response.status,
    message: problem
      ? `${problem.code}: ${problem.detail}`
      : `HTTP ${response.status}: ${text.slice(0, 200)}`,
    requestId: problem?.request_id ?? headerId,
    retryAfter,
    problem,
  });
}
