import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

/** wrangler reads a Hyperdrive binding's local connection string from this variable before its wrangler.toml line. */
const HYPERDRIVE_LOCAL_URL_VARIABLE = "CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_HYPERDRIVE";

/**
 * The Worker runs inside workerd with real local KV/D1/Durable Objects/Queues, and its HYPERDRIVE binding reaches a
 * real local Postgres (PGlite with pgvector, test/support/postgres-global-setup.ts). Tests named `*.gpu.test.ts` call
 * a real GPU service process, started by the global setup and reached over loopback HTTP ("workers-gpu"); the others —
 * admin, keys, config, middleware, services — run without one ("workers"), their GPU_BACKENDS a closed port, so a
 * test that reaches for the GPU tier by mistake gets a 503 and fails.
 */
function workersProject({ gpu }: { gpu: boolean }) {
  return {
    plugins: [
      cloudflareTest(async ({ inject }) => {
        const postgresUrl = inject("postgresUrl");
        // The plugin resolves wrangler.toml's binding too: point it at the test database, never at a developer's
        // `npm start` one on the toml's default port.
        process.env[HYPERDRIVE_LOCAL_URL_VARIABLE] = postgresUrl;
        return {
          wrangler: { configPath: "./wrangler.toml" },
          miniflare: {
            hyperdrives: { HYPERDRIVE: postgresUrl },
            bindings: {
              GPU_BACKENDS: gpu ? inject("gpuUrl") : "http://127.0.0.1:9",
              GPU_SHARED_SECRET: gpu ? inject("gpuSecret") : "no-gpu-tier-0123456789abcdef0123456789",
              ADMIN_TOKEN: "test-admin-token-0123456789abcdef0123456789abcdef",
              // Off: concurrency tests on a loaded machine must get their answers (the policy has its own test).
              EDGE_SATURATED_LAG_MS: "0",
              TEST_MIGRATIONS: await readD1Migrations("migrations"),
            },
          },
        };
      }),
    ],
    test: {
      name: gpu ? "workers-gpu" : "workers",
      include: [gpu ? "workers/**/*.gpu.test.ts" : "workers/**/*.test.ts"],
      exclude: gpu ? [] : ["workers/**/*.gpu.test.ts"],
      globalSetup: [
        "test/support/postgres-global-setup.ts",
        ...(gpu ? ["test/support/gpu-global-setup.ts"] : []),
      ],
      setupFiles: ["test/support/workers/setup.ts"],
      // Bounds that stop a hung test, never assertions: generous, so a loaded 2-core machine does not trip them.
      testTimeout: 120_000,
      hookTimeout: 180_000,
    },
  };
}

/**
 * postgres.js on Workers leaves one unhandled rejection per connection it closes: its pending read fails with "This
 * socket has been closed." after it has handled the close and dropped its listeners. The Worker marks it handled
 * (workers/services/collections/sql-client.ts), but the pool's runner hears it through process.on first. Exactly that
 * error, thrown from postgres.js' socket polyfill, is not a test failure; any other unhandled error still is.
 */
function isPostgresClosedSocketRead(error: { name?: string; message?: string; stack?: string }): boolean {
  return (
    error.name === "TypeError" &&
    error.message === "This socket has been closed." &&
    /postgres[\\/]cf[\\/]polyfills\.js/.test(error.stack ?? "")
  );
}

export default defineConfig({
  test: {
    onUnhandledError: (error) => !isPostgresClosedSocketRead(error),
    // The JSON report lets .ci/run fail when zero tests ran, which a green exit code alone would not show.
    reporters: ["default", ["json", { outputFile: ".vitest-report.json" }]],
    projects: [
      {
        test: {
          name: "core",
          environment: "node",
          include: ["src/**/*.test.ts"],
        },
      },
      workersProject({ gpu: false }),
      workersProject({ gpu: true }),
      {
        test: {
          name: "gpu",
          environment: "node",
          include: [
            "gpu-service/**/*.test.ts",
            "tools/**/*.test.ts",
            "test/**/*.test.ts",
            "shapes-world/**/*.test.ts",
          ],
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
