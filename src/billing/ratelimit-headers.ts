import type { Plan } from "./plans.ts";

/** What a key has left, as its Durable Object reports it after admitting or settling a request. */
export interface LimitsSnapshot {
  /** Whole tokens left in the bucket, and seconds until it is full again. */
  rate: { remaining: number; fullInSeconds: number };
  /** This month's counters (UTC), seconds until they reset, and the month's length in seconds. */
  month: {
    used: { images: number; texts: number };
    resetSeconds: number;
    windowSeconds: number;
  };
}

/**
 * The `RateLimit-Policy` and `RateLimit` fields of draft-ietf-httpapi-ratelimit-headers (-10), as Structured Field
 * lists with three policies: "rate" (the token bucket: `q` tokens refilled over `w` seconds), and the monthly
 * "images" and "texts" quotas (`qu` names the unit; `w` is this month's length).
 *
 * @example rateLimitHeaders(plan, snapshot)["RateLimit"] === '"rate";r=9;t=1, "images";r=1000;t=86400, "texts";r=10000;t=86400'
 */
export function rateLimitHeaders(
  plan: Plan,
  snapshot: LimitsSnapshot,
): { "RateLimit-Policy": string; RateLimit: string } {
  const { month } = snapshot;
  const bucketWindow = Math.max(1, Math.ceil(plan.burst / plan.requests_per_second));
  const left = (limit: number, used: number) => Math.max(0, limit - used);
  return {
    "RateLimit-Policy": [
      `"rate";q=${plan.burst};w=${bucketWindow}`,
      `"images";q=${plan.monthly_quota.images};qu="images";w=${month.windowSeconds}`,
      `"texts";q=${plan.monthly_quota.texts};qu="texts";w=${month.windowSeconds}`,
    ].join(", "),
    RateLimit: [
      `"rate";r=${snapshot.rate.remaining};t=${snapshot.rate.fullInSeconds}`,
      `"images";r=${left(plan.monthly_quota.images, month.used.images)};t=${month.resetSeconds}`,
      `"texts";r=${left(plan.monthly_quota.texts, month.used.texts)};t=${month.resetSeconds}`,
    ].join(", "),
  };
}
