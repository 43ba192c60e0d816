import { cloudflareTest } from "@cloudflare/vitest-plugin";
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
        plugins: [cloudflareTest({ wrangler: { configPath: "./wrangler.toml" } })],
        test: {
          name: "workers",
          include: ["workers/**/*.test.ts"],
        },
      },
      {
        test: {
          name: "gpu",
          environment: "node",
          include: ["gpu-service/**/*.test.ts", "tools/**/*.test.ts", "test/**/*.test.ts"],
          testTimeout: 60_000,
        },
      },
    ],
  },
});
