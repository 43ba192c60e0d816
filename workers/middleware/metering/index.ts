import type { Context, MiddlewareHandler } from "hono";
import { newUsageRecordId, rateLimitHeaders, unitsOf } from "../../../src/billing/index.ts";
import { planNamed } from "../../billing/index.ts";
import type { KeyMeter, SettleInput, SettleResult } from "../../billing/key-meter/index.ts";
import { ApiError, problemResponse } from "../../errors.ts";
import { billedRoute, precheckFor } from "./billable-routes.ts";
import { captureResponse, readIdempotencyKey, replayResponse } from "./idempotency-key.ts";
import { refusal, setLimitHeaders } from "./refusals.ts";
import type { MeteringState } from "./usage.ts";

const SETTLE_ATTEMPTS = 3;

/**
 * Meters every request of an authenticated key in the key's Durable Object (strongly consistent, one per key).
 *
 * Before the route: takes a token from the plan's bucket (429 `rate_limited`), refuses a route the month's quota
 * cannot serve (429 `quota_exceeded`), and handles `Idempotency-Key` (replay of a completed request, 409 while it
 * runs, 422 for another request under the same key). During it, a route that writes state reserves its units first
 * (`reserveUnits`). After the route: when it answered 2xx and recorded its usage (`billUsage`), commits the usage
 * record — with the quota counters, its reservation consumed and the stored response, in one transaction — before the
 * response leaves; otherwise lets the Idempotency-Key claim and the reservation go. A request whose units would
 * exceed the quota is answered 429 and not billed, so no key ever goes over its plan, however many requests race.
 * Records name the route template (`/v1/collections/{name}/items`), never a path holding a customer's names. Every
 * response carries `RateLimit-Policy`/`RateLimit`.
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
    const idem = await readIdempotencyKey(c);
    const owner = idem ? `att_${crypto.randomUUID()}` : "";
    const meter = billing.meter(key.id);
    const admission = await meter
      .admit({
        keyId: key.id,
        plan,
        precheck: precheckFor(c.req.method, billedRoute(c)),
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

    const state: MeteringState = { keyId: key.id, plan, meter, snapshot: admission.snapshot, log };
    c.set("metering", state);
    // Nothing to bill: the claim and the units go now (else their leases run out).
    const endUnbilled = () =>
      Promise.all([
        idem && meter.releaseClaim({ key: idem.key, owner }).catch(() => {}),
        state.reservation && meter.release(state.reservation.id).catch(() => {}),
      ]);
    try {
      await next();
    } catch (error) {
      await endUnbilled();
      throw error;
    }

    const usage = c.get("usage");
    if (!usage || c.res.status < 200 || c.res.status >= 300) {
      await endUnbilled();
      setLimitHeaders(c, plan, state.snapshot);
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
        route: billedRoute(c),
        units: unitsOf({
          images: usage.images,
          texts_computed: usage.texts_computed,
          texts_cached: usage.texts_cached,
          item_writes: usage.item_writes ?? 0,
          queries: usage.queries ?? 0,
        }),
      },
      plan,
      idempotency: idem && stored && { key: idem.key, owner, response: stored },
      reservationId: state.reservation?.id,
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

// Hono merges the old response's headers into a new one; a replaced answer must not keep the route's headers.
function replaceResponse(c: Context, response: Response): void {
  c.res = undefined;
  c.res = response;
}
