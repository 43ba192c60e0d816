import { type Plan, QUOTA_DIMENSIONS, type QuotaDimension } from "./plans.ts";

/** What a key has left, as its Durable Object reports it after admitting, reserving or settling a request. */
export interface LimitsSnapshot {
  /** Whole tokens left in the bucket, and seconds until it is full again. */
  rate: { remaining: number; fullInSeconds: number };
  /**
   * This month's counters (UTC) — units committed, plus units reserved by requests still running, which nobody else
   * can have — seconds until they reset, and the month's length in seconds.
   */
  month: {
    used: Record<QuotaDimension, number>;
    resetSeconds: number;
    windowSeconds: number;
  };
}

/**
 * The `RateLimit-Policy` and `RateLimit` fields of draft-ietf-httpapi-ratelimit-headers (-10), as Structured Field
 * lists with five policies: "rate" (the token bucket: `q` tokens refilled over `w` seconds), and the monthly
 * quotas "images", "texts", "item_writes" and "queries" (`qu` names the unit; `w` is this month's length).
 *
 * @example rateLimitHeaders(plan, snapshot)["RateLimit"] === '"rate";r=9;t=1, "images";r=1000;t=86400, "texts";r=10000;t=86400, "item_writes";r=10000;t=86400, "queries";r=10000;t=86400'
 */
export function rateLimitHeaders(
  plan: Plan,
  snapshot: LimitsSnapshot,
): { "RateLimit-Policy": string; RateLimit: string } {
  const { month } = snapshot;
  const bucketWindow = Math.max(1, Math.ceil(plan.burst / plan.requests_per_second));
  const left = (d: QuotaDimension) => Math.max(0, plan.monthly_quota[d] - month.used[d]);
  return {
    "RateLimit-Policy": [
      `"rate";q=${plan.burst};w=${bucketWindow}`,
      ...QUOTA_DIMENSIONS.map((d) => `"${d}";q=${plan.monthly_quota[d]};qu="${d}";w=${month.windowSeconds}`),
    ].join(", "),
    RateLimit: [
      `"rate";r=${snapshot.rate.remaining};t=${snapshot.rate.fullInSeconds}`,
      ...QUOTA_DIMENSIONS.map((d) => `"${d}";r=${left(d)};t=${month.resetSeconds}`),
    ].join(", "),
  };
}
