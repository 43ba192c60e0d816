import * as z from "zod";

/**
 * The Worker's configuration, validated once per isolate from its bindings (`wrangler.toml` vars, secrets in
 * `.dev.vars` locally or `wrangler secret put` in production). A misconfigured deployment fails every request with a
 * logged reason instead of misbehaving.
 */
const ConfigSchema = z.object({
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
  /**
   * Everything a request does at the edge after its body has been read — URL fetches, queueing, retries on other
   * backends, the hosted fallback — fits in this; its answer comes by then.
   */
  REQUEST_DEADLINE_MS: z.coerce.number().int().min(1_000).max(120_000).default(30_000),
  TEXT_CACHE_TTL_SECONDS: z.coerce
    .number()
    .int()
    .min(60)
    .max(365 * 86_400)
    .default(30 * 86_400),
  TEXT_LRU_SIZE: z.coerce.number().int().min(1).max(100_000).default(5_000),
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
