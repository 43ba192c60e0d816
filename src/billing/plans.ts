import * as z from "zod";

/**
 * Plans: a token bucket for requests per second, monthly quotas, and the price of each unit. Money is integer
 * micro-dollars (1 USD = 1,000,000), so sums are exact. The defaults below are the deployment's plans unless the
 * `BILLING_PLANS` variable (the same shape, as JSON) replaces them.
 */
export const CURRENCY = "USD";

export const PlanSchema = z.strictObject({
  /** Token bucket: refilled at this many tokens per second (may be fractional), at most `burst` tokens. */
  requests_per_second: z.number().positive(),
  burst: z.int().min(1),
  /** Per calendar month (UTC). `texts` counts texts computed and texts served from the cache alike. */
  monthly_quota: z.strictObject({ images: z.int().min(0), texts: z.int().min(0) }),
  /** Price per unit in micro-USD. */
  prices_micros: z.strictObject({
    request: z.int().min(0),
    image: z.int().min(0),
    text_computed: z.int().min(0),
    text_cached: z.int().min(0),
  }),
});
export type Plan = z.infer<typeof PlanSchema>;

export const PLAN_NAME = /^[a-z][a-z0-9_-]{0,31}$/;

export const PlansSchema = z
  .record(z.string().regex(PLAN_NAME, "plan names are lowercase letters, digits, _ and -"), PlanSchema)
  .refine((plans) => Object.keys(plans).length > 0, "define at least one plan");
export type Plans = z.infer<typeof PlansSchema>;

export const DEFAULT_PLAN = "free";

export const DEFAULT_PLANS: Plans = {
  free: {
    requests_per_second: 2,
    burst: 10,
    monthly_quota: { images: 1_000, texts: 10_000 },
    prices_micros: { request: 0, image: 0, text_computed: 0, text_cached: 0 },
  },
  pro: {
    requests_per_second: 50,
    burst: 200,
    monthly_quota: { images: 500_000, texts: 5_000_000 },
    // $0.40 per 1,000 images, $0.02 per 1,000 texts computed, $0.005 per 1,000 texts from the cache.
    prices_micros: { request: 0, image: 400, text_computed: 20, text_cached: 5 },
  },
};

/**
 * Reads the plan table: `BILLING_PLANS` JSON when set, else the defaults.
 *
 * @example parsePlans(undefined).pro.burst === 200
 */
export function parsePlans(json: string | undefined): Plans {
  if (json === undefined || json.trim() === "") return DEFAULT_PLANS;
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    throw new Error(`BILLING_PLANS is not JSON: ${(error as Error).message}`);
  }
  const result = PlansSchema.safeParse(value);
  if (!result.success)
    throw new Error(
      `BILLING_PLANS: ${result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
    );
  return result.data;
}
