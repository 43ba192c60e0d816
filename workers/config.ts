import * as z from "zod";
import { parsePlans } from "../src/billing/index.ts";
import { parseAllowList } from "../src/net/index.ts";

/** A binding wrangler.toml declares: present, or the deployment is told which one is missing. */
const binding = <T>(name: string, kind: string) =>
  z.custom<T>(
    (value) => typeof value === "object" && value !== null,
    `the ${kind} binding ${name} is missing`,
  );

/**
 * The Worker's configuration — every binding and variable — validated once per isolate from its bindings
 * (`wrangler.toml`, secrets in `.dev.vars` locally or `wrangler secret put` in production). A misconfigured deployment
 * fails every request with a logged reason naming each problem, instead of misbehaving.
 */
const ConfigSchema = z.object({
  DB: binding<D1Database>("DB", "D1"),
  TEXT_CACHE: binding<KVNamespace>("TEXT_CACHE", "KV"),
  KEY_CACHE: binding<KVNamespace>("KEY_CACHE", "KV"),
  KEY_METER: binding<DurableObjectNamespace>("KEY_METER", "Durable Object"),
  USAGE_EXPORT: binding<Queue>("USAGE_EXPORT", "Queue"),
  COLLECTION_PURGE: binding<Queue>("COLLECTION_PURGE", "Queue"),
  /** Postgres with pgvector for collections (migrations/postgres/); its connection string is per isolate. */
  HYPERDRIVE: binding<Hyperdrive>("HYPERDRIVE", "Hyperdrive"),
  /**
   * Empty when unset: every admin request is refused, and the public API still serves. When set, at least 32
   * characters, like GPU_SHARED_SECRET: a short admin token is a guessable one.
   */
  ADMIN_TOKEN: z
    .string()
    .default("")
    .refine(
      (token) => token.trim() === "" || token.length >= 32,
      "ADMIN_TOKEN must be empty or at least 32 characters",
    ),
  /** The plan table as JSON (src/billing/plans.ts); the defaults when unset. */
  BILLING_PLANS: z
    .string()
    .optional()
    .transform((json, ctx) => {
      try {
        return parsePlans(json);
      } catch (error) {
        ctx.addIssue({ code: "custom", message: (error as Error).message });
        return z.NEVER;
      }
    }),
  GPU_BACKENDS: z
    .string()
    .min(1, "GPU_BACKENDS must list at least one URL")
    .transform((value) =>
      value
        .split(",")
        .map((url) => url.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.url()).min(1)),
  GPU_SHARED_SECRET: z.string().min(32, "GPU_SHARED_SECRET must be at least 32 characters"),
  /** Longest single attempt on one GPU backend. */
  GPU_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(30_000),
  /** How long a backend's circuit stays open after it failed 3 times in a row, before one call probes it. */
  GPU_CIRCUIT_COOLDOWN_MS: z.coerce.number().int().min(100).max(300_000).default(5_000),
  /**
   * Everything a request does at the edge after its body has been read — URL fetches, queueing, retries on other
   * backends, the hosted fallback — fits in this; its answer comes by then.
   */
  REQUEST_DEADLINE_MS: z.coerce.number().int().min(1_000).max(120_000).default(30_000),
  /**
   * The edge takes no new API work while its event loop runs later than this on average (ms): 503 `overloaded`
   * at once, so admitted work still meets its deadline. 0 turns it off.
   */
  EDGE_SATURATED_LAG_MS: z.coerce.number().int().min(0).max(60_000).default(500),
  TEXT_CACHE_TTL_SECONDS: z.coerce
    .number()
    .int()
    .min(60)
    .max(365 * 86_400)
    .default(30 * 86_400),
  TEXT_LRU_SIZE: z.coerce.number().int().min(1).max(100_000).default(5_000),
  /**
   * Non-public addresses image URLs may name (addresses and CIDR ranges, comma-separated); set it together with the
   * GPU tier's URL_FETCH_ALLOW, for images on the deployment's own network. Empty: public addresses only.
   */
  IMAGE_URL_ALLOW: z
    .string()
    .optional()
    .transform((value, ctx) => {
      const parsed = parseAllowList(value);
      if (parsed.ok) return parsed.list;
      ctx.addIssue({ code: "custom", message: parsed.message });
      return z.NEVER;
    }),
  HF_TOKEN: z.string().optional(),
  HF_MODEL: z.string().optional(),
  HF_ENDPOINT_URL: z.url().optional(),
});

export type EdgeConfig = z.infer<typeof ConfigSchema> & { hfFallback: boolean };

export class ConfigError extends Error {
  override name = "ConfigError";
}

export function readEdgeConfig(env: Record<string, unknown>): EdgeConfig {
  const blankToUndefined = Object.fromEntries(
    Object.entries(env).map(([k, v]) => [k, v === "" ? undefined : v]),
  );
  const result = ConfigSchema.safeParse(blankToUndefined);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; "),
    );
  }
  const config = result.data;
  return { ...config, hfFallback: Boolean(config.HF_TOKEN && (config.HF_MODEL || config.HF_ENDPOINT_URL)) };
}
