import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
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
      {
        // The Worker runs inside workerd with real local KV/D1/Durable Objects/Queues; the GPU tier it calls is a
        // real service process started by the global setup, reached over loopback HTTP.
        plugins: [
          cloudflareTest(async ({ inject }) => ({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              bindings: {
                GPU_BACKENDS: inject("gpuUrl"),
                GPU_SHARED_SECRET: inject("gpuSecret"),
                ADMIN_TOKEN: "test-admin-token-0123456789abcdef0123456789abcdef",
                // Off: concurrency tests on a loaded machine must get their answers (the policy has its own test).
                EDGE_SATURATED_LAG_MS: "0",
                TEST_MIGRATIONS: await readD1Migrations("migrations"),
              },
            },
          })),
        ],
        test: {
          name: "workers",
          include: ["workers/**/*.test.ts"],
          globalSetup: ["test/support/gpu-global-setup.ts"],
          setupFiles: ["test/support/workers/setup.ts"],
          // Bounds that stop a hung test, never assertions: generous, so a loaded 2-core machine does not trip them.
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
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
