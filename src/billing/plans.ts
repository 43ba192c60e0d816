import * as z from "zod";

/**
 * Plans: a token bucket for requests per second, monthly quotas, the price of each unit, and storage limits. Money is
 * integer micro-dollars (1 USD = 1,000,000), so sums are exact. The defaults below are the deployment's plans unless
 * the `BILLING_PLANS` variable (the same shape, as JSON) replaces them.
 */
export const CURRENCY = "USD";

/** The units a monthly quota counts (`texts` counts texts computed and texts from the cache alike). */
export const QUOTA_DIMENSIONS = ["images", "texts", "item_writes", "queries"] as const;
export type QuotaDimension = (typeof QUOTA_DIMENSIONS)[number];

const count = z.int().min(0);

/**
 * The collections' fields came after the first plan tables, so a table written before them stays valid: a missing
 * price is 0 and a missing quota or storage limit is 0 as well — a plan that never mentioned collections includes
 * none of them, rather than giving away units nobody priced. A deployment sells collections by adding the fields.
 */
const collectionsField = count.default(0);

export const PlanSchema = z.strictObject({
  /** Token bucket: refilled at this many tokens per second (may be fractional), at most `burst` tokens. */
  requests_per_second: z.number().positive(),
  burst: z.int().min(1),
  /** Per calendar month (UTC). `texts` counts texts computed and texts served from the cache alike. */
  monthly_quota: z.strictObject({
    images: count,
    texts: count,
    /** Collection items upserted (a failed item is not counted). */
    item_writes: collectionsField,
    /** Collection searches. */
    queries: collectionsField,
  }),
  /** Price per unit in micro-USD. */
  prices_micros: z.strictObject({
    request: count,
    image: count,
    text_computed: count,
    text_cached: count,
    item_write: collectionsField,
    query: collectionsField,
  }),
  /**
   * The finest `/v1/explain` grid the plan allows (its side: a grid of g × g costs g² + 1 image passes). A table
   * written before the field gets 7, the default grid.
   */
  explain_max_grid: z.int().min(4).max(14).default(7),
  /**
   * What an account may keep stored at once (a limit, not billed): collections, and items across them; saved label
   * sets, and labels in one set. Like the collections' fields, a table written before a field gets 0 for it.
   */
  storage_limits: z
    .strictObject({
      collections: collectionsField,
      items: collectionsField,
      label_sets: collectionsField,
      labels_per_set: collectionsField,
    })
    .default({ collections: 0, items: 0, label_sets: 0, labels_per_set: 0 }),
});
/** A plan as the Worker uses it: every field present (defaults applied). */
export type Plan = z.infer<typeof PlanSchema>;
/** A plan as written in `BILLING_PLANS`: the collections' fields may be left out. */
export type PlanInput = z.input<typeof PlanSchema>;
export type StorageLimits = Plan["storage_limits"];

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
    monthly_quota: { images: 1_000, texts: 10_000, item_writes: 10_000, queries: 10_000 },
    prices_micros: { request: 0, image: 0, text_computed: 0, text_cached: 0, item_write: 0, query: 0 },
    storage_limits: { collections: 5, items: 10_000, label_sets: 5, labels_per_set: 500 },
    explain_max_grid: 7,
  },
  pro: {
    requests_per_second: 50,
    burst: 200,
    monthly_quota: { images: 500_000, texts: 5_000_000, item_writes: 5_000_000, queries: 10_000_000 },
    // $0.40 per 1,000 images, $0.02 per 1,000 texts computed, $0.005 per 1,000 texts from the cache, $0.01 per
    // 1,000 item writes, $0.02 per 1,000 queries (a query by text or image also pays for embedding it).
    prices_micros: { request: 0, image: 400, text_computed: 20, text_cached: 5, item_write: 10, query: 20 },
    storage_limits: { collections: 1_000, items: 10_000_000, label_sets: 500, labels_per_set: 2_000 },
    explain_max_grid: 14,
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
