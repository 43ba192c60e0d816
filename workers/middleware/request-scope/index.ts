import type { MiddlewareHandler } from "hono";
import type { CallBudget, Outcome } from "../../services/upstream.ts";

type Calls<T extends readonly unknown[]> = { [K in keyof T]: (budget: CallBudget) => Promise<Outcome<T[K]>> };

/**
 * One request's budget: a deadline that counts all of its time at the edge — admission, URL downloads, queueing,
 * retries, the fallback — except receiving its body (a slow upload is the client's time), and a signal that aborts
 * when the request is over — answered, failed, or its client gone — so nothing it started outlives it unobserved.
 *
 * @example
 * const [labels, images] = servedOrThrow(await c.get("scope").all([(b) => texts(b), (b) => inference.embedImages(x, b)]));
 */
export class RequestScope implements CallBudget {
  readonly signal: AbortSignal;
  /** The Worker's `waitUntil`: lets a call outlive the response just long enough to settle its bookkeeping. */
  readonly keepAlive: ((promise: Promise<unknown>) => void) | undefined;
  private readonly controller = new AbortController();
  private readonly budgetMs: number;
  private readonly now: () => number;
  private readonly arrivedAt: number;
  private readonly reserve: () => number;
  private uploadMs = 0;
  private readonly afterwards: (() => Promise<unknown>)[] = [];
  private ended = false;

  constructor(
    budgetMs: number,
    options: {
      clientSignal?: AbortSignal;
      keepAlive?: (promise: Promise<unknown>) => void;
      now?: () => number;
      /** Time (ms) to keep in hand at the end for sending the answer, as it is now; 0 when unset. */
      reserve?: () => number;
    } = {},
  ) {
    this.budgetMs = budgetMs;
    this.now = options.now ?? Date.now;
    this.arrivedAt = this.now();
    this.keepAlive = options.keepAlive;
    this.reserve = options.reserve ?? (() => 0);
    this.signal = options.clientSignal
      ? AbortSignal.any([this.controller.signal, options.clientSignal])
      : this.controller.signal;
  }

  /** Time spent receiving the body (a slow upload) is the client's, not the request's: the deadline moves by it. */
  excludeUpload(ms: number): void {
    this.uploadMs += Math.max(0, ms);
  }

  /**
   * Epoch ms by which the work must be done: arrival + the budget + the upload's time, less what the reserve keeps
   * in hand for sending the answer (at most a quarter of the budget).
   */
  get deadline(): number {
    // Never more than a quarter of the budget, so a short one still leaves time for the work.
    const reserve = Math.min(this.reserve(), this.budgetMs / 4);
    return this.arrivedAt + this.budgetMs + this.uploadMs - reserve;
  }

  remainingMs(): number {
    return Math.max(0, this.deadline - this.now());
  }

  /**
   * Runs calls side by side under one child budget. The first failure aborts the others, and it returns only once
   * every call has settled — so no call's bookkeeping (in-flight counts, a circuit's probe) is left to a request
   * that has already answered.
   */
  async all<T extends readonly unknown[]>(calls: Calls<T>): Promise<Outcome<T>> {
    const sibling = new AbortController();
    const budget: CallBudget = {
      deadline: this.deadline,
      signal: AbortSignal.any([this.signal, sibling.signal]),
      keepAlive: this.keepAlive,
    };
    let firstFailure: Outcome<never> | undefined;
    const settled = await Promise.allSettled(
      calls.map(async (call) => {
        try {
          const outcome = await call(budget);
          if (!outcome.ok) {
            firstFailure ??= outcome;
            sibling.abort();
          }
          return outcome;
        } catch (error) {
          // A bug that threw ends the siblings' work too; allSettled still waits for them to stop.
          sibling.abort();
          throw error;
        }
      }),
    );
    const thrown = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
    if (thrown) throw thrown.reason;
    if (firstFailure) return firstFailure;
    const values = settled.map((s) => (s as PromiseFulfilledResult<{ value: unknown }>).value.value);
    return { ok: true, value: values as unknown as T };
  }

  /**
   * Work that must not compete with the request's own calls (cache writes): it starts once the scope has ended —
   * the answer is out and billed — and is kept alive past the response. Ended already: it starts now.
   */
  afterAnswer(task: () => Promise<unknown>): void {
    if (this.ended) this.startAfterwards(task);
    else this.afterwards.push(task);
  }

  /** Ends the scope: whatever is still running on its behalf is cancelled, and the work left for afterwards starts. */
  end(): void {
    this.ended = true;
    this.controller.abort();
    for (const task of this.afterwards.splice(0)) this.startAfterwards(task);
  }

  private startAfterwards(task: () => Promise<unknown>): void {
    const running = Promise.resolve().then(task);
    if (this.keepAlive) this.keepAlive(running);
    else running.catch(() => {});
  }
}

/**
 * Gives each request its {@link RequestScope} (deadline `REQUEST_DEADLINE_MS`) and ends it once the route has
 * answered. Needs the services on the context.
 *
 * @example app.use("*", provideServices()); app.use("*", requestScope())
 */
export function requestScope(): MiddlewareHandler<{ Bindings: Env }> {
  return async function requestScopeMiddleware(c, next) {
    const services = c.get("services");
    const scope = new RequestScope(services.config.REQUEST_DEADLINE_MS, {
      clientSignal: c.req.raw.signal,
      keepAlive: keepAliveOf(() => c.executionCtx),
      reserve: () => answerReserveMs(services.eventLoop.averageMs),
    });
    c.set("scope", scope);
    try {
      await next();
    } finally {
      scope.end();
    }
  };
}

/**
 * Time to keep in hand for answering when the isolate's event loop runs `lagMs` late: 2 s, so a request that cannot
 * be served fails before its deadline rather than at it, and a few turns of the loop, which lie between the work's
 * end and the answer leaving (at most 10 s in all).
 *
 * @example answerReserveMs(0) === 2_000; answerReserveMs(1_000) === 6_000
 */
export function answerReserveMs(lagMs: number): number {
  return Math.min(MAX_RESERVE_MS, BASE_RESERVE_MS + ANSWER_TURNS * lagMs);
}

/** Turns of the event loop between the end of a request's work and its answer leaving, allowed for. */
const ANSWER_TURNS = 4;
const MAX_RESERVE_MS = 10_000;
const BASE_RESERVE_MS = 2_000;

// A plain app.request() (some tests) has no execution context; then there is nothing to keep alive.
function keepAliveOf(
  context: () => { waitUntil(promise: Promise<unknown>): void },
): ((promise: Promise<unknown>) => void) | undefined {
  try {
    const ctx = context();
    return (promise) => ctx.waitUntil(promise.catch(() => {}));
  } catch {
    return undefined;
  }
}
