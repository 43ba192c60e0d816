import type { Context } from "hono";
import { BatcherClosedError, type CompletionEstimate, QueueFullError } from "../batching/index.ts";
import { ModelUnavailableError } from "../model/index.ts";
import type { ServiceDeps } from "./deps.ts";
import { problem } from "./problem.ts";

/** The most time left the edge may announce in `deadline_ms` (its own longest call). */
export const MAX_DEADLINE_MS = 600_000;

export interface RequestDeadline {
  /**
   * Fires when the deadline passes, the client goes away, or the drain timeout cuts the request: cancels every item
   * still queued.
   */
  signal: AbortSignal;
  /**
   * 503 `shed` when the request's items, going through these stages one after the other, would be done after its
   * deadline by the batchers' own estimates — or undefined: go ahead and queue them. An idle service never sheds,
   * nor does a stage without history (its estimate is undefined).
   */
  shedIfLate(...stages: (CompletionEstimate | undefined)[]): Response | undefined;
  /** The answer for a batcher rejection, or undefined for an error that is a bug (rethrow it). */
  problemFor(reason: unknown): Response | undefined;
}

/**
 * One deadline per request for the routes that feed the batchers, and the one mapping of their rejections to
 * answers. The deadline is `min(REQUEST_TIMEOUT_MS, deadline_ms)` from the request's arrival, `deadline_ms` being
 * the time the edge had left when it sent the request (signed, as part of the query); a malformed one is answered
 * 400 `invalid_input` (returned instead of a deadline). Rejections: queue full → 503 `overloaded` with the batcher's
 * Retry-After, cut by the drain or queue closed by shutdown → 503 `shutting_down`, the inference thread lost and
 * being replaced → 503 `not_ready`, deadline passed → 503 `timeout`, client gone → 400.
 *
 * @example
 * const deadline = requestDeadline(c, deps);
 * if (deadline instanceof Response) return deadline;
 * const shed = deadline.shedIfLate(deps.images.estimate(images.length));
 * if (shed) return shed;
 * … catch (e) { return deadline.problemFor(e) ?? Promise.reject(e) }
 */
export function requestDeadline(
  c: Context,
  deps: Pick<ServiceDeps, "config" | "metrics">,
): RequestDeadline | Response {
  const asked = parseDeadlineMs(c.req.query("deadline_ms"));
  if (typeof asked === "string") return problem(c, "invalid_input", asked);
  const timeoutMs = Math.min(deps.config.requestTimeoutMs, asked ?? Number.POSITIVE_INFINITY);
  // Outside the admission middleware (never in this service's app) the deadline counts from now.
  const admission = c.var.admission as typeof c.var.admission | undefined;
  const deadlineAt = (admission?.arrivedAt ?? performance.now()) + timeoutMs;
  const timeLeftMs = () => deadlineAt - performance.now();
  const timeout = AbortSignal.timeout(Math.max(0, Math.ceil(timeLeftMs())));
  const signals = [timeout, c.req.raw.signal];
  if (admission) signals.push(admission.cut);
  return {
    signal: AbortSignal.any(signals),
    shedIfLate(...stages) {
      const known = stages.filter((stage): stage is CompletionEstimate => stage !== undefined);
      if (known.every((stage) => stage.backlogItems === 0)) return undefined;
      const doneInMs = known.reduce((sum, stage) => sum + stage.doneInMs, 0);
      const left = timeLeftMs();
      if (doneInMs <= left) return undefined;
      deps.metrics.requestShed(c.req.routePath);
      const backlogMs = known.reduce((sum, stage) => sum + stage.backlogMs, 0);
      return problem(
        c,
        "shed",
        `the work queued here would take ~${Math.ceil(doneInMs)} ms with this request, which has ` +
          `${Math.max(0, Math.floor(left))} ms left; retry on another backend`,
        backlogMs / 1000,
      );
    },
    problemFor(reason) {
      if (reason instanceof QueueFullError)
        return problem(c, "overloaded", reason.message, reason.retryAfterMs / 1000);
      if (admission?.cut.aborted || reason instanceof BatcherClosedError)
        return problem(c, "shutting_down", "this instance stopped before the request finished", 1);
      if (reason instanceof ModelUnavailableError) return problem(c, "not_ready", reason.message, 1);
      if (timeout.aborted) return problem(c, "timeout", `no answer within ${timeoutMs} ms`, 1);
      if (c.req.raw.signal.aborted) return problem(c, "invalid_input", "the client went away");
      return undefined;
    },
  };
}

/**
 * `deadline_ms` from the query string: absent → undefined, else an integer in 1..MAX_DEADLINE_MS, or a message.
 *
 * @example parseDeadlineMs("2500") === 2500; parseDeadlineMs(undefined) === undefined; typeof parseDeadlineMs("0") === "string"
 */
export function parseDeadlineMs(value: string | undefined): number | undefined | string {
  if (value === undefined) return undefined;
  const ms = Number(value);
  if (!/^\d+$/.test(value) || ms < 1 || ms > MAX_DEADLINE_MS)
    return `deadline_ms must be an integer in 1..${MAX_DEADLINE_MS}, got "${value}"`;
  return ms;
}
