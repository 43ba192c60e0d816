import { type Plan, type Plans, parsePlans } from "../../src/billing/index.ts";

/**
 * The billing side of the Worker's configuration, read once per isolate: the plan table (`BILLING_PLANS` or the
 * defaults) and the admin token. A missing `ADMIN_TOKEN` does not take the public API down; the admin routes then
 * refuse everyone.
 */
export interface BillingConfig {
  plans: Plans;
  /** Empty when unset: every admin request is refused. */
  adminToken: string;
}

export function readBillingConfig(env: Record<string, unknown>): BillingConfig {
  const text = (name: string) => (typeof env[name] === "string" ? (env[name] as string) : "");
  return { plans: parsePlans(text("BILLING_PLANS") || undefined), adminToken: text("ADMIN_TOKEN") };
}

export function planNamed(config: BillingConfig, name: string): Plan | undefined {
  return Object.hasOwn(config.plans, name) ? config.plans[name] : undefined;
}
