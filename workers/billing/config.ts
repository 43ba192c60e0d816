import type { Plan, Plans, StorageLimits } from "../../src/billing/index.ts";
import type { EdgeConfig } from "../config.ts";

/**
 * The billing side of the Worker's configuration (validated with the rest, workers/config.ts): the plan table
 * (`BILLING_PLANS` or the defaults) and the admin token. A missing `ADMIN_TOKEN` does not take the public API down;
 * the admin routes then refuse everyone.
 */
export interface BillingConfig {
  plans: Plans;
  /** Empty when unset: every admin request is refused. */
  adminToken: string;
}

export function billingConfigOf(config: Pick<EdgeConfig, "BILLING_PLANS" | "ADMIN_TOKEN">): BillingConfig {
  return { plans: config.BILLING_PLANS, adminToken: config.ADMIN_TOKEN };
}

export function planNamed(config: BillingConfig, name: string): Plan | undefined {
  return Object.hasOwn(config.plans, name) ? config.plans[name] : undefined;
}

/**
 * What a plan lets an account keep stored at once (collections, and items across them); undefined when the
 * deployment does not define the plan. Inside a metered request, `storageLimits(c)` reads the caller's.
 *
 * @example storageLimitsOf(config, "free") → { collections: 5, items: 10_000 } with the default plans
 */
export function storageLimitsOf(config: BillingConfig, planName: string): StorageLimits | undefined {
  return planNamed(config, planName)?.storage_limits;
}
