import type { Context, MiddlewareHandler } from "hono";
import type { ErrorCode } from "../../../src/api/index.ts";
import {
  type LimitsSnapshot,
  newUsageRecordId,
  type Plan,
  rateLimitHeaders,
} from "../../../src/billing/index.ts";
import { planNamed } from "../../billing/index.ts";
import type {
  AdmitRefusal,
  KeyMeter,
  SettleInput,
  SettleRefusal,
  SettleResult,
} from "../../billing/key-meter/index.ts";
import { ApiError, problemResponse } from "../../errors.ts";
import { refused } from "../api-key/index.ts";
import { precheckFor } from "./billable-routes.ts";
import { captureResponse, readIdempotencyKey, replayResponse } from "./idempotency-key.ts";

const SETTLE_ATTEMPTS = 3;

/**
 * Meters every request of an authenticated key in the key's Durable Object (strongly consistent, one per key).
 *
 * Before the route: takes a token from the plan's bucket (429 `rate_limited`), refuses a route the month's quota
 * cannot serve (429 `quota_exceeded`), and handles `Idempotency-Key` (replay of a completed request, 409 while it
 * runs, 422 for another request under the same key). After the route: when it answered 2xx and recorded its usage
 * (`billUsage`), commits the usage record — with the quota counters and the stored response, in one transaction —
 * before the response leaves. A request whose units would exceed the quota is answered 429 and not billed, so no
 * key ever goes over its plan, however many requests race. Every response carries `RateLimit-Policy`/`RateLimit`.
 *
 * @example app.use("/v1/*", apiKeyAuth()); app.use("/v1/*", metering())
 */
export function metering(log: (line: string) => void = console.error): MiddlewareHandler<{ Bindings: Env }> {
  return async function meteringMiddleware(c, next) {
    const billing = c.get("services").billing;
    const key = c.get("apiKey");
    const plan = planNamed(billing.config, key.plan);
    if (!plan) {
      log(`key ${key.id} is on plan "${key.plan}", which BILLING_PLANS does not define`);
      throw new ApiError("internal_error", "this key's plan is not configured; the operators have been told");
    }
    const path = new URL(c.req.url).pathname;
    const idem = await readIdempotencyKey(c);
    const owner = idem ? `att_${crypto.randomUUID()}` : "";
    const meter = billing.meter(key.id);
    const admission = await meter
      .admit({
        keyId: key.id,
        plan,
        precheck: precheckFor(c.req.method, path),
        idempotency: idem && { ...idem, owner },
      })
      .catch((error: unknown) => {
        log(`[${c.get("requestId")}] key meter unavailable at admission: ${(error as Error).message}`);
        throw new ApiError("internal_error", "limits could not be checked; retry shortly", {
          retryAfterSeconds: 1,
        });
      });
    if (!admission.ok) throw refusal(admission.code, plan, admission.snapshot, admission.retryAfterSeconds);
    if (admission.replay) {
      const response = replayResponse(admission.replay);
      for (const [name, value] of Object.entries(rateLimitHeaders(plan, admission.snapshot)))
        response.headers.set(name, value);
      return response;
    }

    await next();

    const usage = c.get("usage");
    if (!usage || c.res.status < 200 || c.res.status >= 300) {
      if (idem) await meter.release({ key: idem.key, owner }).catch(() => {}); // else its lease runs out
      setLimitHeaders(c, plan, admission.snapshot);
      return;
    }
    const stored = idem ? await captureResponse(c.res) : undefined;
    const settled = await settle(meter, {
      record: {
        id: newUsageRecordId(),
        requestId: c.get("requestId"),
        keyId: key.id,
        account: key.account,
        planName: key.plan,
        plan,
        route: path,
        units: {
          requests: 1,
          images: usage.images,
          texts_computed: usage.texts_computed,
          texts_cached: usage.texts_cached,
        },
      },
      plan,
      idempotency: idem && stored && { key: idem.key, owner, response: stored },
    }).catch((error: unknown) => {
      log(`[${c.get("requestId")}] key meter unavailable at settlement: ${(error as Error).message}`);
      return undefined;
    });
    if (!settled) {
      // The record may or may not be committed; with an Idempotency-Key the client's retry finds out which.
      replaceResponse(
        c,
        problemResponse(
          c,
          "internal_error",
          "the request could not be billed; retry with the same Idempotency-Key",
        ),
      );
      return;
    }
    if (!settled.ok) {
      const error = refusal(settled.code, plan, settled.snapshot, settled.retryAfterSeconds);
      replaceResponse(c, problemResponse(c, error.code, error.message, error.options));
      return;
    }
    if (stored)
      replaceResponse(c, new Response(stored.body, { status: stored.status, headers: stored.headers }));
    setLimitHeaders(c, plan, settled.snapshot);
  };
}

/** Settling is idempotent by record id, so a call whose answer was lost is simply made again. */
async function settle(meter: DurableObjectStub<KeyMeter>, input: SettleInput): Promise<SettleResult> {
  let lastError: unknown;
  for (let attempt = 0; attempt < SETTLE_ATTEMPTS; attempt++) {
    try {
      return (await meter.settle(input)) as SettleResult;
    } catch (error) {
      lastError = error;
      if (attempt + 1 < SETTLE_ATTEMPTS)
        await new Promise((resolve) => setTimeout(resolve, 50 * 4 ** attempt));
    }
  }
  throw lastError;
}

function setLimitHeaders(c: Context, plan: Plan, snapshot: LimitsSnapshot): void {
  for (const [name, value] of Object.entries(rateLimitHeaders(plan, snapshot))) c.header(name, value);
}

// Hono merges the old response's headers into a new one; a replaced answer must not keep the route's headers.
function replaceResponse(c: Context, response: Response): void {
  c.res = undefined;
  c.res = response;
}

const DETAILS: Record<Exclude<AdmitRefusal | SettleRefusal, "revoked_api_key">, (plan: Plan) => string> = {
  rate_limited: (plan) =>
    `this key's plan allows ${plan.requests_per_second} requests per second in bursts of up to ${plan.burst}`,
  quota_exceeded: (plan) =>
    `this request would exceed the key's monthly quota (${plan.monthly_quota.images} images, ${plan.monthly_quota.texts} texts); it resets at the start of the next month (UTC) and nothing was billed`,
  idempotency_in_progress: () => "a request with this Idempotency-Key is still running; retry it shortly",
  idempotency_key_reused: () =>
    "this Idempotency-Key was used in the last 24 hours for a different request (method, path or body)",
};

function refusal(
  code: AdmitRefusal | SettleRefusal,
  plan: Plan,
  snapshot: LimitsSnapshot | undefined,
  retryAfterSeconds: number | undefined,
): ApiError {
  if (code === "revoked_api_key") return refused(code, "this API key was revoked");
  const headers = snapshot ? rateLimitHeaders(plan, snapshot) : {};
  return new ApiError(code satisfies ErrorCode, DETAILS[code](plan), { headers, retryAfterSeconds });
}
