import type { MiddlewareHandler } from "hono";
import type { CallBudget, Outcome } from "../../services/upstream.ts";

declare module "hono" {
  interface ContextVariableMap {
    /** The request's deadline and cancellation, handed to every upstream call it makes. */
    scope: RequestScope;
  }
}

type Calls<T extends readonly unknown[]> = { [K in keyof T]: (budget: CallBudget) => Promise<Outcome<T[K]>> };

/**
 * One request's budget for upstream work: a deadline that starts when its body has been read (so a slow upload is
 * not counted against the inference), and a signal that aborts when the request is over — answered, failed, or
 * its client gone — so nothing it started outlives it unobserved.
 *
 * @example
 * const [labels, images] = servedOrThrow(await c.get("scope").all([(b) => texts(b), (b) => inference.embedImages(x, b)]));
 */
export class RequestScope implements CallBudget {
  readonly signal: AbortSignal;
  private readonly controller = new AbortController();
  private readonly budgetMs: number;
  private readonly now: () => number;
  private startedAt: number | undefined;

  constructor(budgetMs: number, clientSignal?: AbortSignal, now: () => number = Date.now) {
    this.budgetMs = budgetMs;
    this.now = now;
    this.signal = clientSignal
      ? AbortSignal.any([this.controller.signal, clientSignal])
      : this.controller.signal;
  }

  /** Starts the deadline clock (once; later calls keep the first start). */
  start(): void {
    this.startedAt ??= this.now();
  }

  /** Epoch ms by which every answer must be in; starts the clock if nothing did. */
  get deadline(): number {
    this.start();
    return (this.startedAt as number) + this.budgetMs;
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
    };
    let firstFailure: Outcome<never> | undefined;
    const outcomes = await Promise.all(
      calls.map(async (call) => {
        const outcome = await call(budget);
        if (!outcome.ok && !firstFailure) {
          firstFailure = outcome;
          sibling.abort();
        }
        return outcome;
      }),
    );
    if (firstFailure) return firstFailure;
    return { ok: true, value: outcomes.map((o) => (o as { value: unknown }).value) as unknown as T };
  }

  /** Ends the scope: whatever is still running on its behalf is cancelled. */
  end(): void {
    this.controller.abort();
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
    const scope = new RequestScope(c.get("services").config.REQUEST_DEADLINE_MS, c.req.raw.signal);
    c.set("scope", scope);
    try {
      await next();
    } finally {
      scope.end();
    }
  };
}
