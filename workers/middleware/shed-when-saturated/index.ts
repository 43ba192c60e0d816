import type { MiddlewareHandler } from "hono";
import { ApiError } from "../../errors.ts";

/**
 * Refuses new API work at once — before the key is looked up, the body read or anything billed — while this isolate
 * is saturated: its event loop runs later than `EDGE_SATURATED_LAG_MS` on average (`services.eventLoop`, sampled
 * here by every request). Work already admitted then finishes within its deadline instead of every request being
 * answered late; the refusal is 503 `overloaded` with a Retry-After, which a client retries like any 503. Not
 * billed, not rate-counted. Shedding by the GPU tier's own queue is `shedWhenOverloaded`'s; this is the edge's own.
 *
 * @example app.use("*", provideServices()); app.use("/v1/*", shedWhenSaturated())
 */
const MIN_RETRY_AFTER_S = 2;
const RETRY_AFTER_TURNS = 4;

export function shedWhenSaturated(): MiddlewareHandler<{ Bindings: Env }> {
  return async function shedWhenSaturatedMiddleware(c, next) {
    const services = c.get("services");
    const limitMs = services.config.EDGE_SATURATED_LAG_MS;
    const lag = services.eventLoop;
    await lag.measure();
    const averageMs = lag.averageMs;
    if (limitMs > 0 && averageMs > limitMs)
      throw new ApiError(
        "overloaded",
        `the edge is overloaded: this request would miss its deadline (its work runs ${Math.round(averageMs)} ms late)`,
        // Long enough for the queue to drain: retries that come back at once would keep it saturated.
        { retryAfterSeconds: Math.max(MIN_RETRY_AFTER_S, (RETRY_AFTER_TURNS * averageMs) / 1000) },
      );
    await next();
  };
}
