import { build } from "esbuild";
import { Miniflare } from "miniflare";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import { createApiKey } from "../../tools/keys/admin-client.ts";
import { applyMigrations } from "../../tools/local-stack/bootstrap.ts";
import { type LocalPostgres, startLocalPostgres } from "../../tools/local-stack/postgres.ts";
import { type GpuProcess, startGpuProcess } from "./gpu-process.ts";
import { TEST_SECRET } from "./gpu-service.ts";

export interface EdgeStack {
  /** The edge's base URL: real HTTP into workerd, run in-process through Miniflare's API. */
  edgeUrl: string;
  /** The GPU service the edge calls; replace it after restarting one on the same port. */
  gpu: GpuProcess;
  /** Every GPU backend when the stack has several (`gpu` is the first); the edge's GPU_BACKENDS in this order. */
  gpus: GpuProcess[];
  miniflare: Miniflare;
  /** Everything workerd printed (the Worker's console output included), for tests that check the logs. */
  logs: string[];
  /** Headers that authenticate a /v1 request (an API key created through the admin API). */
  apiHeaders: Record<string, string>;
  /** The stack's own Postgres (PGlite + pgvector, migrated) behind HYPERDRIVE, when asked for (`postgres: true`). */
  postgres?: LocalPostgres;
  /** Headers that authenticate an /admin request (the stack's ADMIN_TOKEN). */
  adminHeaders: Record<string, string>;
  stop(): Promise<void>;
}

const ADMIN_TOKEN = "e2e-admin-token-0123456789abcdefghij";

/** Bundles the Worker as wrangler would (esbuild, ES module, workerd conditions). */
async function bundleWorker(): Promise<string> {
  const result = await build({
    entryPoints: [new URL("../../workers/index.ts", import.meta.url).pathname],
    bundle: true,
    format: "esm",
    platform: "browser",
    conditions: ["workerd", "worker", "browser"],
    target: "es2023",
    external: ["cloudflare:*", "node:*"],
    write: false,
    logLevel: "silent",
  });
  return result.outputFiles[0]?.text ?? "";
}

/** The local stack for end-to-end tests: a real GPU service process and the real Worker in workerd, over loopback. */
export async function startEdgeStack(
  bindings: Record<string, string> = {},
  options: { gpuBackends?: number; postgres?: boolean } = {},
): Promise<EdgeStack> {
  // Collections need a Postgres: the stack's own, in memory on a free port, never a developer's npm start one.
  const [script, gpus, postgres] = await Promise.all([
    bundleWorker(),
    Promise.all(Array.from({ length: options.gpuBackends ?? 1 }, () => startGpuProcess())),
    options.postgres ? startLocalPostgres() : Promise.resolve(undefined),
  ]);
  const gpu = gpus[0] as GpuProcess;
  const logs: string[] = [];
  const capture = (stream: NodeJS.ReadableStream) =>
    stream.on("data", (chunk: Buffer) => logs.push(...chunk.toString().split("\n").filter(Boolean)));
  // Bindings (KV, D1, Durable Objects, Queues) come from wrangler.toml itself, so the test runs what deploys.
  const { workerOptions } = unstable_getMiniflareWorkerOptions(
    new URL("../../wrangler.toml", import.meta.url).pathname,
  );
  const miniflare = new Miniflare({
    ...workerOptions,
    modules: true,
    script,
    bindings: {
      ...(workerOptions.bindings as Record<string, unknown>),
      GPU_BACKENDS: gpus.map((g) => g.url).join(","),
      GPU_SHARED_SECRET: TEST_SECRET,
      ADMIN_TOKEN,
      // Shedding by the isolate's own lag is off: tests run concurrent requests on a machine that may be loaded, and
      // must get their answers; the policy has its own test (workers/middleware/shed-when-saturated).
      EDGE_SATURATED_LAG_MS: "0",
      ...bindings,
    },
    ...(postgres ? { hyperdrives: { HYPERDRIVE: postgres.url } } : {}),
    host: "127.0.0.1",
    port: 0,
    handleRuntimeStdio: (stdout: NodeJS.ReadableStream, stderr: NodeJS.ReadableStream) => {
      capture(stdout);
      capture(stderr);
    },
  } as ConstructorParameters<typeof Miniflare>[0]);
  const url = await miniflare.ready;
  await applyMigrations(await miniflare.getD1Database("DB"));
  const adminToken = bindings.ADMIN_TOKEN ?? ADMIN_TOKEN;
  const key = await createApiKey({ url: url.origin, adminToken }, { name: "e2e", plan: "pro" });
  const stack: EdgeStack = {
    edgeUrl: url.origin,
    gpu,
    gpus,
    miniflare,
    logs,
    postgres,
    apiHeaders: { authorization: `Bearer ${key.key}` },
    adminHeaders: { authorization: `Bearer ${adminToken}` },
    // A test may replace `gpu` (a restart after a kill); stop whichever runs now.
    stop: async () => {
      await miniflare.dispose();
      await Promise.all([stack.gpu, ...stack.gpus.slice(1)].map((g) => g.stop()));
      await postgres?.stop();
    },
  };
  return stack;
}
