import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { VerifiedKey } from "./billing/index.ts";
import type { BilledUsage, MeteringState } from "./middleware/metering/usage.ts";
import type { RequestScope } from "./middleware/request-scope/index.ts";
import type { Services } from "./services/index.ts";

/**
 * What a request carries through the edge, typed once: every variable a middleware sets and a route reads, with who
 * sets it. `c.get("services")` and the rest are typed from here everywhere.
 */
declare module "hono" {
  interface ContextVariableMap {
    /** Set first (requestId): the caller's acceptable X-Request-Id, else ours; on every answer and billing record. */
    requestId: string;
    /** Built once per isolate (provideServices): tokenizer, caches, GPU client, circuit breakers. */
    services: Services;
    /** The request's deadline and cancellation (requestScope), handed to every upstream call it makes. */
    scope: RequestScope;
    /** The caller's key (apiKeyAuth), on every /v1 request that gets past it. */
    apiKey: VerifiedKey;
    /** The key's plan, meter and reservation (metering), read by `reserveUnits` and `storageLimits`. */
    metering: MeteringState;
    /** Set by a billable route once it has succeeded (`billUsage`): the units the metering middleware records. */
    usage: BilledUsage;
  }
}

/** The Worker's environment as Hono sees it: its bindings (wrangler.toml, `Env`) and the variables above. */
export type AppEnv = { Bindings: Env };

/** The edge app every route file registers on; it gathers the routes' OpenAPI definitions. */
export type App = OpenAPIHono<AppEnv>;

/** The request's `waitUntil`: work that may outlive the response. Without an execution context it just runs. */
export function waitUntilOf(c: Context): (promise: Promise<unknown>) => void {
  return (promise) => {
    try {
      c.executionCtx.waitUntil(promise);
    } catch {
      // No execution context (a plain app.request() in tests): let the promise run on its own.
      promise.catch(() => {});
    }
  };
}
