import type { Context } from "hono";
import type { ErrorCode } from "../../../src/api/index.ts";
import { type LimitsSnapshot, type Plan, rateLimitHeaders } from "../../../src/billing/index.ts";
import type { AdmitRefusal, ReserveRefusal, SettleRefusal } from "../../billing/key-meter/types.ts";
import { ApiError } from "../../errors.ts";
import { refused } from "../api-key/index.ts";

type Refusal = AdmitRefusal | ReserveRefusal | SettleRefusal;

const DETAILS: Record<Exclude<Refusal, "revoked_api_key">, (plan: Plan) => string> = {
  rate_limited: (plan) =>
    `this key's plan allows ${plan.requests_per_second} requests per second in bursts of up to ${plan.burst}`,
  quota_exceeded: ({ monthly_quota: q }) =>
    `this request would exceed the key's monthly quota (${q.images} images, ${q.texts} texts, ${q.item_writes} item writes, ${q.queries} queries); it resets at the start of the next month (UTC) and nothing was billed`,
  idempotency_in_progress: () => "a request with this Idempotency-Key is still running; retry it shortly",
  idempotency_key_reused: () =>
    "this Idempotency-Key was used in the last 24 hours for a different request (method, path or body)",
};

/** The problem a refusal of the key's meter becomes, with the limits it reported (RateLimit fields). */
export function refusal(
  code: Refusal,
  plan: Plan,
  snapshot: LimitsSnapshot | undefined,
  retryAfterSeconds: number | undefined,
): ApiError {
  if (code === "revoked_api_key") return refused(code, "this API key was revoked");
  const headers = snapshot ? rateLimitHeaders(plan, snapshot) : {};
  return new ApiError(code satisfies ErrorCode, DETAILS[code](plan), { headers, retryAfterSeconds });
}

export function setLimitHeaders(c: Context, plan: Plan, snapshot: LimitsSnapshot): void {
  for (const [name, value] of Object.entries(rateLimitHeaders(plan, snapshot))) c.header(name, value);
}
