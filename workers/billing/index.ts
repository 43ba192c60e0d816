import type { EdgeConfig } from "../config.ts";
import { type BillingConfig, billingConfigOf } from "./config.ts";
import { KeyDirectory } from "./key-directory.ts";
import type { KeyMeter } from "./key-meter/index.ts";
import { KeyStore } from "./key-store.ts";
import { UsageStore } from "./usage-store.ts";

export { type BillingConfig, planNamed, storageLimitsOf } from "./config.ts";
export type { VerifiedKey } from "./key-store.ts";

/** Keys, limits and billing as the Worker uses them; built once per isolate like the other services. */
export interface Billing {
  config: BillingConfig;
  keys: KeyStore;
  directory: KeyDirectory;
  usage: UsageStore;
  /** The Durable Object holding a key's limits and bill. */
  meter(keyId: string): DurableObjectStub<KeyMeter>;
}

/**
 * The billing services for these bindings. Built once per isolate as part of the edge's services
 * (`c.get("services").billing`); nothing else builds them.
 */
export function createBilling(env: Env, edgeConfig: EdgeConfig): Billing {
  const config = billingConfigOf(edgeConfig);
  const keys = new KeyStore(env.DB);
  return {
    config,
    keys,
    directory: new KeyDirectory({ store: keys, kv: env.KEY_CACHE }),
    usage: new UsageStore(env.DB),
    meter: (keyId) => env.KEY_METER.get(env.KEY_METER.idFromName(keyId)),
  };
}
