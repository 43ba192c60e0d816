import { ApiError } from "../errors.ts";

/**
 * Why the GPU tier (or the hosted fallback) could not serve a call. Services return it as a value; a route turns it
 * into the public error once, with {@link upstreamProblem}.
 */
export interface UpstreamFailure {
  code: "gpu_unavailable" | "upstream_timeout" | "upstream_error" | "no_caption_bank" | "cancelled";
  message: string;
  /** When retrying may help: the backend asked for it, or a circuit reopens then. */
  retryAfterSeconds: number;
}

/** A service's answer: its value, or the upstream failure that prevented it. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; failure: UpstreamFailure };

export function succeeded<T>(value: T): Outcome<T> {
  return { ok: true, value };
}

export function failed(
  code: UpstreamFailure["code"],
  message: string,
  retryAfterSeconds = 1,
): { ok: false; failure: UpstreamFailure } {
  return {
    ok: false,
    failure: { code, message, retryAfterSeconds: Math.max(1, Math.ceil(retryAfterSeconds)) },
  };
}

/**
 * The one mapping of an upstream failure to the public problem. Retry-After only where waiting helps: the GPU tier
 * busy, down or slow. A call cancelled because its request already ended never reaches a client; if it does, it is
 * reported as a retryable unavailability, never as a success.
 *
 * @example if (!outcome.ok) throw upstreamProblem(outcome.failure)
 */
export function upstreamProblem(failure: UpstreamFailure): ApiError {
  switch (failure.code) {
    case "gpu_unavailable":
    case "upstream_timeout":
      return new ApiError(failure.code, failure.message, { retryAfterSeconds: failure.retryAfterSeconds });
    case "cancelled":
      return new ApiError("gpu_unavailable", failure.message, {
        retryAfterSeconds: failure.retryAfterSeconds,
      });
    case "no_caption_bank":
    case "upstream_error":
      return new ApiError(failure.code, failure.message);
  }
}

/** The value of a successful outcome; a failure becomes its public problem (thrown to the one error handler). */
export function servedOrThrow<T>(outcome: Outcome<T>): T {
  if (!outcome.ok) throw upstreamProblem(outcome.failure);
  return outcome.value;
}

/**
 * What one upstream call may spend: it stops when `signal` aborts (its request ended, a sibling call failed) or at
 * `deadline` (epoch ms), whichever comes first. `keepAlive` (the Worker's `waitUntil`) lets a call that outlives its
 * request finish its own bookkeeping instead of being dropped by the runtime.
 */
export interface CallBudget {
  signal?: AbortSignal;
  deadline: number;
  keepAlive?: (promise: Promise<unknown>) => void;
}

/** The failure of a call whose request's deadline passed first. */
export function deadlinePassed(): { ok: false; failure: UpstreamFailure } {
  return failed("upstream_timeout", "the request's deadline passed before the GPU tier answered");
}

/**
 * Waits for `work` only as long as the budget allows: a call that outlives its deadline or whose request was
 * cancelled gets its failure at once, while `work` itself goes on (it may be shared with other requests).
 *
 * @example const texts = await withinBudget(sharedComputation, scope)
 */
export async function withinBudget<T>(
  work: Promise<Outcome<T>>,
  budget: CallBudget,
  now: () => number = Date.now,
): Promise<Outcome<T>> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort = () => {};
  const cut = new Promise<Outcome<T>>((resolve) => {
    const timedOut = () => resolve(deadlinePassed());
    const remaining = budget.deadline - now();
    if (remaining <= 0) return timedOut();
    timer = setTimeout(timedOut, remaining);
    onAbort = () => resolve(failed("cancelled", "the request ended before the GPU tier answered"));
    if (budget.signal?.aborted) return onAbort();
    budget.signal?.addEventListener("abort", onAbort, { once: true });
  });
  try {
    return await Promise.race([work, cut]);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    budget.signal?.removeEventListener("abort", onAbort);
  }
}
