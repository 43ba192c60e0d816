import type { Context } from "hono";
import { BatcherClosedError, QueueFullError } from "../batching/index.ts";
import { problem } from "./problem.ts";

export interface RequestDeadline {
  /** Fires when the request outlives `timeoutMs` or the client goes away: cancels every item still queued. */
  signal: AbortSignal;
  /** The answer for a batcher rejection, or undefined for an error that is a bug (rethrow it). */
  problemFor(reason: unknown): Response | undefined;
}

/**
 * One deadline per request for the routes that feed the batchers, and the one mapping of their rejections to
 * answers: queue full → 503 `overloaded` with the batcher's Retry-After, queue closed by shutdown → 503
 * `shutting_down`, deadline passed → 503 `timeout`, client gone → 400.
 *
 * @example const deadline = requestDeadline(c, 30_000); … catch (e) { return deadline.problemFor(e) ?? Promise.reject(e) }
 */
export function requestDeadline(c: Context, timeoutMs: number): RequestDeadline {
  const timeout = AbortSignal.timeout(timeoutMs);
  return {
    signal: AbortSignal.any([timeout, c.req.raw.signal]),
    problemFor(reason) {
      if (reason instanceof QueueFullError)
        return problem(c, "overloaded", reason.message, reason.retryAfterMs / 1000);
      if (reason instanceof BatcherClosedError) return problem(c, "shutting_down", reason.message, 1);
      if (timeout.aborted) return problem(c, "timeout", `no answer within ${timeoutMs} ms`, 1);
      if (c.req.raw.signal.aborted) return problem(c, "invalid_input", "the client went away");
      return undefined;
    },
  };
}
