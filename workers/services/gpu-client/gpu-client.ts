import { signRequest } from "../../../src/signing/index.ts";
import { CircuitBreaker, type CircuitBreakerOptions } from "./circuit-breaker.ts";

export interface GpuClientOptions {
  /** Base URLs of the GPU tier's replicas. */
  backends: readonly string[];
  secret: string;
  /** Per attempt; an attempt that gets no answer in time fails (and counts against its backend). */
  timeoutMs: number;
  /** Attempts per call, each on a different backend. */
  maxAttempts: number;
  breaker: CircuitBreakerOptions;
  fetch?: typeof fetch;
  now?: () => number;
  random?: () => number;
}

export type GpuFailureCode = "gpu_unavailable" | "upstream_timeout" | "upstream_error";

export type GpuResult =
  | { ok: true; response: Response; backend: string }
  | { ok: false; code: GpuFailureCode; message: string; retryAfterSeconds: number };

interface Backend {
  url: string;
  outstanding: number;
  breaker: CircuitBreaker;
}

/**
 * Calls the GPU tier: signs each request, routes it to the healthy backend with the fewest requests in flight, and
 * retries on another backend only where that is safe — when no response arrived (connection refused or reset) or
 * the backend refused before doing any work (503). When every backend is open-circuited it answers at once with
 * `gpu_unavailable` and a Retry-After, never waiting on a dead host.
 *
 * @example
 * const result = await client.post("/v1/embed/images", frame, CONTENT_TYPE);
 * if (!result.ok) return problem(c, result.code, result.message, result.retryAfterSeconds);
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
      outstanding: 0,
      breaker: new CircuitBreaker(options.breaker),
    }));
    this.fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
  }

  async post(path: string, body: Uint8Array, contentType: string, signal?: AbortSignal): Promise<GpuResult> {
    const tried = new Set<Backend>();
    let last: GpuResult | undefined;
    for (let attempt = 0; attempt < this.options.maxAttempts; attempt++) {
      const backend = this.pick(tried);
      if (!backend) break;
      tried.add(backend);
      const result = await this.attempt(backend, path, body, contentType, signal);
      if (result.ok || !result.retry) return result.result;
      last = result.result;
    }
    return last ?? this.unavailable();
  }

  /** Per backend: circuit state and requests in flight, for /healthz and tests. */
  snapshot(): { url: string; circuit: string; outstanding: number }[] {
    return this.backends.map((b) => ({ url: b.url, circuit: b.breaker.status, outstanding: b.outstanding }));
  }

  private pick(exclude: ReadonlySet<Backend>): Backend | undefined {
    const now = this.now();
    const candidates = this.backends.filter((b) => !exclude.has(b) && b.breaker.isAvailable(now));
    if (candidates.length === 0) return undefined;
    const fewest = Math.min(...candidates.map((b) => b.outstanding));
    const best = candidates.filter((b) => b.outstanding === fewest);
    const chosen = best[Math.floor(this.random() * best.length)] as Backend;
    return chosen.breaker.tryAcquire(now) ? chosen : undefined;
  }

  private async attempt(
    backend: Backend,
    path: string,
    body: Uint8Array,
    contentType: string,
    signal: AbortSignal | undefined,
  ): Promise<{ ok: boolean; retry: boolean; result: GpuResult }> {
    // Counted from the moment the backend is chosen, so concurrent calls see each other before any await.
    backend.outstanding++;
    const timeout = AbortSignal.timeout(this.options.timeoutMs);
    try {
      const headers = await signRequest({ secret: this.options.secret, method: "POST", path, body });
      const response = await this.fetch(`${backend.url}${path}`, {
        method: "POST",
        body,
        headers: { ...headers, "content-type": contentType },
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
      if (response.status === 503) {
        // The backend refused before doing any work (queue full, warming up, draining): safe to try another.
        const pause = retryAfterMs(response.headers.get("retry-after"));
        backend.breaker.pauseFor(this.now(), pause);
        await response.body?.cancel();
        return {
          ok: false,
          retry: true,
          result: this.failure("gpu_unavailable", `${backend.url} is busy`, pause / 1000),
        };
      }
      if (response.status >= 500) {
        backend.breaker.onFailure(this.now());
        const detail = (await response.text()).slice(0, 200);
        return {
          ok: false,
          retry: false,
          result: this.failure("upstream_error", `backend answered ${response.status}: ${detail}`, 1),
        };
      }
      backend.breaker.onSuccess();
      return { ok: true, retry: false, result: { ok: true, response, backend: backend.url } };
    } catch (error) {
      backend.breaker.onFailure(this.now());
      if (timeout.aborted) {
        return {
          ok: false,
          retry: false,
          result: this.failure(
            "upstream_timeout",
            `no answer from the GPU tier within ${this.options.timeoutMs} ms`,
            1,
          ),
        };
      }
      if (signal?.aborted) throw error;
      // No response at all (refused, reset, DNS): the request was not processed, so another backend may take it.
      return { ok: false, retry: true, result: this.unavailable() };
    } finally {
      backend.outstanding--;
    }
  }

  private unavailable(): GpuResult {
    const now = this.now();
    const soonest = Math.min(...this.backends.map((b) => b.breaker.availableAt(now)));
    return this.failure(
      "gpu_unavailable",
      "no inference backend is reachable right now",
      Math.max(1, (soonest - now) / 1000),
    );
  }

  private failure(code: GpuFailureCode, message: string, retryAfterSeconds: number): GpuResult {
    return { ok: false, code, message, retryAfterSeconds: Math.max(1, Math.ceil(retryAfterSeconds)) };
  }
}

function retryAfterMs(header: string | null): number {
  const seconds = Number(header);
  return Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds, 60) * 1000 : 1000;
}
