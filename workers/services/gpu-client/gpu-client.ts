import { parseGpuProblem } from "../../../src/protocol/index.ts";
import { signRequest } from "../../../src/signing/index.ts";
import { type CallBudget, deadlinePassed, failed, type Outcome, type UpstreamFailure } from "../upstream.ts";
import { BackendLoad } from "./backend-load.ts";
import { type Admission, CircuitBreaker, type CircuitBreakerOptions } from "./circuit-breaker.ts";

export interface GpuClientOptions {
  /** Base URLs of the GPU tier's replicas. */
  backends: readonly string[];
  secret: string;
  /** Longest single attempt; each attempt is also cut to what is left of the call's deadline. */
  timeoutMs: number;
  /** Attempts per call, each on a different backend. */
  maxAttempts: number;
  breaker: CircuitBreakerOptions;
  fetch?: typeof fetch;
  now?: () => number;
  random?: () => number;
}

/** A backend's answer that is not a refusal of the tier itself: 2xx, or a 4xx about the request. */
export interface GpuAnswer {
  status: number;
  body: Uint8Array;
  contentType: string;
  backend: string;
  /** The answer's headers (an occlusion answer carries its geometry in one). */
  headers?: Headers;
}

interface Backend {
  url: string;
  breaker: CircuitBreaker;
  load: BackendLoad;
}

type AttemptResult = { retry: boolean; outcome: Outcome<GpuAnswer> };

/** Times a call waits for another call's half-open probe before giving up on a backend, and how long each wait. */
const MAX_PROBE_WAITS = 3;
const PROBE_WAIT_MS = 2_000;
/**
 * The backend is told a deadline this much shorter than the edge's own, so a live backend always answers (503
 * `timeout`) before the edge gives up: an attempt with no answer at all then really means a dead or hung backend.
 */
const DEADLINE_MARGIN_MS = 500;
/** An attempt ends this much before the call's deadline, so its answer (a timeout included) is out by then. */
const ANSWER_MARGIN_MS = 250;
/** Backends that would keep a call past this share of its remaining time are passed over (shed at the edge). */
const WAIT_SHARE = 0.5;

/**
 * Calls the GPU tier: signs each request (its remaining deadline, less a margin, in the signed query as
 * `deadline_ms`), routes it to the healthy backend with the fewest calls in flight, and retries on another backend
 * where that is safe — no response arrived (connection refused or reset before the answer: GPU work has no side
 * effects), or the backend refused before doing any work (503: draining, warming, queue full, or it would miss this
 * call's deadline). A backend that lets a call time out without answering counts as failing: 3 in a row open its
 * circuit. When every circuit is open it answers at once with `gpu_unavailable` and a Retry-After; while a
 * recovering backend's probe is deciding, a call waits briefly for that verdict.
 *
 * Bookkeeping cannot leak: every attempt settles its in-flight count and its breaker outcome on every path (success,
 * failure, timeout, abort), and both are leases besides, so an attempt the runtime drops (its request ended) stops
 * counting when its lease ends.
 *
 * @example
 * const result = await client.post("/v1/embed/images", frame, CONTENT_TYPE, { deadline: Date.now() + 30_000 });
 * if (!result.ok) throw upstreamProblem(result.failure);
 */
export class GpuClient {
  private readonly backends: Backend[];
  private readonly options: GpuClientOptions;
  private readonly fetch: typeof fetch;
  private readonly now: () => number;
  private readonly random: () => number;

  constructor(options: GpuClientOptions) {
    if (options.backends.length === 0) throw new Error("GpuClient needs at least one backend");
    this.options = options;
    this.backends = options.backends.map((url) => ({
      url: url.replace(/\/+$/, ""),
      breaker: new CircuitBreaker(options.breaker),
      load: new BackendLoad(),
    }));
    this.fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
  }

  /** The backends' hosts, which image URLs may never name. */
  hosts(): string[] {
    return this.backends.map((b) => new URL(b.url).hostname);
  }

  post(path: string, body: Uint8Array, contentType: string, budget: CallBudget): Promise<Outcome<GpuAnswer>> {
    const call = this.route(path, body, contentType, budget);
    // Kept alive past the request if need be, so the call settles its bookkeeping even when the runtime would
    // otherwise drop it (its request answered, or its client went away).
    budget.keepAlive?.(call);
    return call;
  }

  private async route(
    path: string,
    body: Uint8Array,
    contentType: string,
    budget: CallBudget,
  ): Promise<Outcome<GpuAnswer>> {
    const tried = new Set<Backend>();
    let last: UpstreamFailure | undefined;
    let waits = 0;
    for (let attempt = 0; attempt < this.options.maxAttempts; ) {
      if (budget.signal?.aborted)
        return failed("cancelled", "the request ended before the GPU tier answered");
      const remaining = budget.deadline - this.now();
      if (remaining <= 0) return deadlinePassed();
      const picked = this.pick(tried, kindOf(path), remaining);
      if (picked === "overloaded")
        return last ? { ok: false, failure: last } : this.overloaded(kindOf(path), remaining);
      if (!picked) {
        if (waits++ < MAX_PROBE_WAITS && (await this.waitForProbe(tried, budget))) continue;
        break;
      }
      attempt++;
      tried.add(picked.backend);
      const result = await this.attempt(picked.backend, picked.admission, path, body, contentType, budget);
      if (!result.retry) return result.outcome;
      if (!result.outcome.ok) last = result.outcome.failure;
    }
    return last ? { ok: false, failure: last } : this.unavailable();
  }

  /**
   * How long a new call to `path` would wait at the least loaded healthy backend (ms), when every healthy backend
   * has enough history to tell; undefined otherwise. Lets a route refuse work it cannot finish before doing any.
   */
  expectedWaitMs(path: string): number | undefined {
    const now = this.now();
    const waits = this.backends
      .filter((b) => b.breaker.isAvailable(now))
      .map((b) => b.load.expectedWaitMs(kindOf(path), now));
    if (waits.length === 0 || waits.some((w) => w === undefined)) return undefined;
    return Math.min(...(waits as number[]));
  }

  /** Whether a call with `remainingMs` left would be shed (see {@link expectedWaitMs}). */
  wouldMissDeadline(path: string, remainingMs: number): number | undefined {
    const wait = this.expectedWaitMs(path);
    return wait !== undefined && wait > WAIT_SHARE * remainingMs ? wait : undefined;
  }

  /** Per backend: circuit state and calls in flight, for /healthz and tests. */
  snapshot(): { url: string; circuit: CircuitBreaker["status"]; outstanding: number }[] {
    const now = this.now();
    return this.backends.map((b) => ({
      url: b.url,
      circuit: b.breaker.status,
      outstanding: b.load.outstanding(now),
    }));
  }

  /**
   * The healthy backend with the fewest calls in flight that can answer in time, or "overloaded" when every healthy
   * one would keep this call waiting past its deadline (by its recent answer rate): shedding it now, with an honest
   * Retry-After, beats failing it late — and keeps the queue in front of the GPU tier short.
   */
  private pick(
    exclude: ReadonlySet<Backend>,
    kind: string,
    remainingMs: number,
  ): { backend: Backend; admission: Admission } | "overloaded" | undefined {
    const now = this.now();
    const healthy = this.backends.filter((b) => !exclude.has(b) && b.breaker.isAvailable(now));
    if (healthy.length === 0) return undefined;
    const inTime = healthy.filter((b) => (b.load.expectedWaitMs(kind, now) ?? 0) <= WAIT_SHARE * remainingMs);
    if (inTime.length === 0) return "overloaded";
    const load = inTime.map((b) => b.load.outstanding(now));
    const fewest = Math.min(...load);
    const best = inTime.filter((_, i) => load[i] === fewest);
    const backend = best[Math.floor(this.random() * best.length)] as Backend;
    const admission = backend.breaker.tryAcquire(now, this.leaseMs(remainingMs));
    return admission ? { backend, admission } : undefined;
  }

  /** 503 at once: every healthy backend would keep this call past its deadline; Retry-After is the soonest clear. */
  private overloaded(kind: string, remainingMs: number): { ok: false; failure: UpstreamFailure } {
    const now = this.now();
    const waits = this.backends.flatMap((b) => b.load.expectedWaitMs(kind, now) ?? []);
    const soonest = waits.length ? Math.min(...waits) : remainingMs;
    return failed(
      "gpu_unavailable",
      "the GPU tier is overloaded: this request would miss its deadline",
      soonest / 1000,
    );
  }

  /** Waits (within the budget) for a probe deciding on an untried backend; false when there is none. */
  private async waitForProbe(tried: ReadonlySet<Backend>, budget: CallBudget): Promise<boolean> {
    const now = this.now();
    const probes = this.backends
      .filter((b) => !tried.has(b))
      .map((b) => b.breaker.probeSettled(now))
      .filter((p) => p !== undefined);
    if (probes.length === 0) return false;
    // Briefly: a probe to a hung backend takes a whole timeout, and callers must not spend their deadline on it.
    const waitMs = Math.min(budget.deadline - now, PROBE_WAIT_MS, ...probes.map((p) => p.leaseEndsIn));
    let timer: ReturnType<typeof setTimeout> | undefined;
    let onAbort = () => {};
    await Promise.race([
      // Created by the probe's own request: workerd rejects it for everyone else once that request has ended.
      ...probes.map((p) => p.settled.catch(() => {})),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, Math.max(0, waitMs));
        onAbort = resolve;
        budget.signal?.addEventListener("abort", onAbort, { once: true });
      }),
    ]);
    if (timer !== undefined) clearTimeout(timer);
    budget.signal?.removeEventListener("abort", onAbort);
    return true;
  }

  private async attempt(
    backend: Backend,
    admission: Admission,
    path: string,
    body: Uint8Array,
    contentType: string,
    budget: CallBudget,
  ): Promise<AttemptResult> {
    const remaining = budget.deadline - this.now();
    const attemptMs = Math.max(1, Math.min(this.options.timeoutMs, remaining - ANSWER_MARGIN_MS));
    const kind = kindOf(path);
    const release = backend.load.begin(kind, this.now(), this.leaseMs(attemptMs));
    const timeout = AbortSignal.timeout(attemptMs);
    const signal = budget.signal ? AbortSignal.any([budget.signal, timeout]) : timeout;
    const deadlineMs = Math.max(1, Math.ceil(attemptMs - DEADLINE_MARGIN_MS));
    const signedPath = `${path}${path.includes("?") ? "&" : "?"}deadline_ms=${deadlineMs}`;
    try {
      let response: Response;
      try {
        const headers = await signRequest({
          secret: this.options.secret,
          method: "POST",
          path: signedPath,
          body,
        });
        response = await this.fetch(`${backend.url}${signedPath}`, {
          method: "POST",
          body,
          headers: { ...headers, "content-type": contentType },
          signal,
        });
      } catch {
        // No answer at all. GPU work has no side effects, so another backend may take it — unless time is up.
        return this.noAnswer(backend, admission, budget, timeout, attemptMs, true);
      }
      let bytes: Uint8Array;
      try {
        bytes = new Uint8Array(await response.arrayBuffer());
      } catch {
        // A refusal's status is the whole story: a draining backend closes its connection right behind its 503,
        // which can reset it under the (tiny) body. It did no work, so another backend may take the call.
        if (response.status === 503 && !timeout.aborted && !budget.signal?.aborted)
          return this.judge(backend, response, new Uint8Array());
        // Any other answer cut off: the backend did the work, so this is its failure, not a case for another try.
        return this.noAnswer(backend, admission, budget, timeout, attemptMs, false);
      }
      backend.load.answered(kind, this.now());
      return this.judge(backend, response, bytes);
    } finally {
      release();
    }
  }

  /** No (complete) answer: the caller cancelled, time ran out, or the backend is unreachable or broke off. */
  private noAnswer(
    backend: Backend,
    admission: Admission,
    budget: CallBudget,
    timeout: AbortSignal,
    attemptMs: number,
    retryable: boolean,
  ): AttemptResult {
    const now = this.now();
    // Our own timeout first: when it fired, a cancellation racing it (a sibling that timed out too) changes nothing.
    if (budget.signal?.aborted && !timeout.aborted) {
      backend.breaker.onAbandoned(admission);
      return { retry: false, outcome: failed("cancelled", "the request ended before the GPU tier answered") };
    }
    // A live backend answers its (earlier) deadline itself, so silence until ours means it is hung or gone.
    backend.breaker.onFailure(now);
    if (timeout.aborted) {
      // Cut short by the request's deadline, or the full GPU_TIMEOUT_MS of its own.
      const ownTimeout = attemptMs >= this.options.timeoutMs;
      return {
        retry: false,
        outcome: ownTimeout
          ? failed("upstream_timeout", `no answer from the GPU tier within ${this.options.timeoutMs} ms`)
          : deadlinePassed(),
      };
    }
    if (!retryable)
      return { retry: false, outcome: failed("upstream_error", "the GPU tier's answer was cut off") };
    return { retry: true, outcome: this.unavailable() };
  }

  /** Sorts an answer into success, a refusal worth retrying elsewhere, or a final failure, updating the breaker. */
  private judge(backend: Backend, response: Response, bytes: Uint8Array): AttemptResult {
    const now = this.now();
    const contentType = response.headers.get("content-type") ?? "";
    if (response.status === 503) {
      const code = parseGpuProblem(bytes, contentType)?.code;
      const pause = retryAfterMs(response.headers.get("retry-after"));
      if (code === "timeout") {
        backend.breaker.onSuccess(); // alive: it answered, only this call ran out of time
        // Told apart from the edge's own timeout: this one means the work queued there too long.
        return {
          retry: false,
          outcome: failed(
            "upstream_timeout",
            "the GPU tier could not finish the work within the request's deadline",
          ),
        };
      }
      if (code === "shed" || code === "overloaded") {
        // Alive but too busy for this call (it would miss its deadline, or its queue is full right now); others,
        // with more time or fewer items, may still go there, so the backend is not paused.
        backend.breaker.onSuccess();
        const why = code === "shed" ? "this request would miss its deadline" : "its queue is full";
        return {
          retry: true,
          outcome: failed("gpu_unavailable", `the GPU tier is overloaded: ${why}`, pause / 1000),
        };
      }
      // Draining or warming up: the backend refused before doing any work; skip it for its Retry-After.
      backend.breaker.pauseFor(now, pause);
      const why =
        code === "shutting_down" ? "is draining" : code === "not_ready" ? "is warming up" : "is busy";
      return { retry: true, outcome: failed("gpu_unavailable", `a GPU backend ${why}`, pause / 1000) };
    }
    if (response.status >= 500) {
      backend.breaker.onFailure(now);
      const detail = new TextDecoder().decode(bytes.subarray(0, 200));
      return {
        retry: false,
        outcome: failed("upstream_error", `the GPU tier answered ${response.status}: ${detail}`),
      };
    }
    backend.breaker.onSuccess();
    return {
      retry: false,
      outcome: {
        ok: true,
        value: {
          status: response.status,
          body: bytes,
          contentType,
          backend: backend.url,
          headers: response.headers,
        },
      },
    };
  }

  // A lease outlives the attempt's own timeout a little, so only a dropped attempt ever reaches its end.
  private leaseMs(attemptMs: number): number {
    return Math.min(this.options.timeoutMs, attemptMs) + 1_000;
  }

  private unavailable(): { ok: false; failure: UpstreamFailure } {
    const now = this.now();
    const soonest = Math.min(...this.backends.map((b) => b.breaker.availableAt(now)));
    return failed("gpu_unavailable", "no inference backend is reachable right now", (soonest - now) / 1000);
  }
}

/** The kind of a call, for its load: its route without the query. */
function kindOf(path: string): string {
  const query = path.indexOf("?");
  return query === -1 ? path : path.slice(0, query);
}

function retryAfterMs(header: string | null): number {
  const seconds = Number(header);
  return Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds, 60) * 1000 : 1000;
}
