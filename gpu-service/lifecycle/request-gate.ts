/** A request let in before the drain began: the service owes it an answer. */
export interface Admission {
  /** `performance.now()` when it arrived; its deadline counts from here. */
  readonly arrivedAt: number;
  /** Aborts when the drain timeout passes before the request finished: answer 503 `shutting_down` at once. */
  readonly cut: AbortSignal;
  /** Its answer has left (or its connection is gone). Idempotent. */
  done(): void;
}

/** How a drain went, for the log line at its end. */
export interface DrainReport {
  /** Requests in flight when the drain began. */
  inFlight: number;
  /** Of those, the ones that finished before the timeout. */
  finished: number;
  /** The ones still unfinished at the timeout, answered 503 `shutting_down`. */
  cut: number;
  durationMs: number;
}

// After the timeout, the cut requests' 503s are tiny and leave at once; this only bounds a client that stopped reading.
const CUT_ANSWER_GRACE_MS = 1_000;

/**
 * Decides, when a request arrives, whether the service takes it: always, until `drain()`; never after. Requests
 * taken are finished before the service exits, bounded by the drain timeout. Admission is decided before the body is
 * read, so a request still uploading at SIGTERM is finished like one already queued.
 *
 * @example
 * const admission = gate.admit();
 * if (!admission) return shuttingDown();
 * try { return await handle(request, admission.cut); } finally { admission.done(); }
 * // on SIGTERM:
 * const { finished, cut } = await gate.drain(30_000);
 */
export class RequestGate {
  readonly #now: () => number;
  readonly #open = new Set<AbortController>();
  #onChange: (() => void) | undefined;
  #drain: Promise<DrainReport> | undefined;

  constructor(now: () => number = () => performance.now()) {
    this.#now = now;
  }

  get draining(): boolean {
    return this.#drain !== undefined;
  }

  /** Requests admitted and not done yet. */
  get inFlight(): number {
    return this.#open.size;
  }

  /** An admission for a request that just arrived, or undefined once draining (answer 503 `shutting_down`). */
  admit(): Admission | undefined {
    if (this.#drain) return undefined;
    const controller = new AbortController();
    this.#open.add(controller);
    return {
      arrivedAt: this.#now(),
      cut: controller.signal,
      done: () => {
        if (!this.#open.delete(controller)) return;
        this.#onChange?.();
      },
    };
  }

  /**
   * Admits nothing from now on and resolves once every admitted request is done — or, when `timeoutMs` passes first,
   * aborts the `cut` signal of those left and resolves once their answers have left (at most a second later).
   * Idempotent: later calls get the first drain.
   */
  drain(timeoutMs: number): Promise<DrainReport> {
    this.#drain ??= this.#run(timeoutMs);
    return this.#drain;
  }

  async #run(timeoutMs: number): Promise<DrainReport> {
    const startedAt = this.#now();
    const inFlight = this.#open.size;
    let cut = 0;
    if (!(await this.#whenEmpty(timeoutMs))) {
      cut = this.#open.size;
      const reason = new Error(`the drain timeout (${timeoutMs} ms) passed before this request finished`);
      for (const controller of this.#open) controller.abort(reason);
      await this.#whenEmpty(CUT_ANSWER_GRACE_MS);
    }
    return { inFlight, finished: inFlight - cut, cut, durationMs: this.#now() - startedAt };
  }

  /** True once no request is open, false if `ms` passes first. */
  #whenEmpty(ms: number): Promise<boolean> {
    if (this.#open.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const finish = (empty: boolean) => {
        clearTimeout(timer);
        this.#onChange = undefined;
        resolve(empty);
      };
      const timer = setTimeout(() => finish(false), ms);
      this.#onChange = () => {
        if (this.#open.size === 0) finish(true);
      };
    });
  }
}
