import { type BillingConfig, readBillingConfig } from "./config.ts";
import { KeyDirectory } from "./key-directory.ts";
import type { KeyMeter } from "./key-meter/index.ts";
import { KeyStore } from "./key-store.ts";
import { UsageStore } from "./usage-store.ts";

export { type BillingConfig, planNamed } from "./config.ts";
export { exportUsage } from "./export-consumer.ts";
export { KeyMeter } from "./key-meter/index.ts";
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

let built: { env: unknown; billing: Billing } | undefined;

/** The billing services for these bindings, built on first use in the isolate (again only if the bindings change). */
export function billingFor(env: Env): Billing {
  if (built?.env === env) return built.billing;
  const config = readBillingConfig(env as unknown as Record<string, unknown>);
  const keys = new KeyStore(env.DB);
  const billing: Billing = {
    config,
    keys,
    directory: new KeyDirectory({ store: keys, kv: env.KEY_CACHE }),
    usage: new UsageStore(env.DB),
    meter: (keyId) => env.KEY_METER.get(env.KEY_METER.idFromName(keyId)),
  };
  built = { env, billing };
  return billing;
}
