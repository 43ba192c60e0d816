import type { Attempt } from "./types.ts";

export interface RetryPolicy {
  /** Retries after the first attempt. */
  retries: number;
  /** The longest the client waits, whatever Retry-After says (a phone app would not wait a month). */
  capMs: number;
}

/** Waits without a Retry-After double from this, as clients usually back off. */
const BACKOFF_MS = 250;

/**
 * Why an attempt may be retried with the same Idempotency-Key, or undefined for a final answer: the edge could not
 * serve it now (503, 504), the rate limit said to come back (429; not `quota_exceeded`, which lasts until the month
 * ends), the first attempt is still running (409 `idempotency_in_progress`), or no answer came (timeout, connection).
 * The harness's own hard stop is final.
 *
 * @example retryReason({ status: 429, code: "rate_limited", … }) // "429 rate_limited"
 */
export function retryReason(attempt: Attempt): string | undefined {
  if (attempt.noAnswer === "timeout" || attempt.noAnswer === "connection") return attempt.noAnswer;
  const { status, code } = attempt;
  const label = `${status} ${code ?? "(no code)"}`;
  if (status === 503 || status === 504) return label;
  if (status === 429 && code !== "quota_exceeded") return label;
  if (status === 409 && code === "idempotency_in_progress") return label;
  return undefined;
}

/**
 * How long to wait before retrying `attempt`, or undefined when it is not retried. Retry-After when given, else
 * exponential back-off; both capped, with up to 20% jitter (`jitter` in [0, 1)) so clients told "1 s" together do not
 * all come back in the same millisecond.
 *
 * @example retryDelayMs({ status: 503, retryAfterSeconds: 2, … }, 0, { retries: 3, capMs: 5000 }, 0) // 2000
 */
export function retryDelayMs(
  attempt: Attempt,
  retriesDone: number,
  policy: RetryPolicy,
  jitter: number,
): number | undefined {
  if (retriesDone >= policy.retries || retryReason(attempt) === undefined) return undefined;
  const base =
    attempt.retryAfterSeconds !== undefined
      ? attempt.retryAfterSeconds * 1000
      : BACKOFF_MS * 2 ** Math.min(retriesDone, 10);
  return Math.min(policy.capMs, base * (1 + 0.2 * jitter));
}

/**
 * Retry-After as seconds: delay-seconds or an HTTP date (RFC 9110 §10.2.3); undefined when absent or unreadable.
 *
 * @example parseRetryAfter("3", 0) // 3; parseRetryAfter("Wed, 21 Oct 2015 07:28:10 GMT", Date.parse("Wed, 21 Oct 2015 07:28:00 GMT")) // 10
 */
export function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text);
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - nowMs) / 1000));
}
