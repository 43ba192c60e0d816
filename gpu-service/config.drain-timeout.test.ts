import { describe, expect, it } from "vitest";
import { ConfigError, readServiceConfig } from "./config.ts";

const base = { GPU_SHARED_SECRET: "s".repeat(32) };

describe("DRAIN_TIMEOUT_MS", () => {
  it("defaults to 30 s and takes any whole number of ms up to 10 minutes, 0 included", () => {
    expect(readServiceConfig(base).drainTimeoutMs).toBe(30_000);
    expect(readServiceConfig({ ...base, DRAIN_TIMEOUT_MS: "0" }).drainTimeoutMs).toBe(0);
    expect(readServiceConfig({ ...base, DRAIN_TIMEOUT_MS: "600000" }).drainTimeoutMs).toBe(600_000);
  });

  it.each(["-1", "1.5", "soon", "600001"])("refuses %j at start with a clear message", (value) => {
    expect(() => readServiceConfig({ ...base, DRAIN_TIMEOUT_MS: value })).toThrow(ConfigError);
    expect(() => readServiceConfig({ ...base, DRAIN_TIMEOUT_MS: value })).toThrow(
      `DRAIN_TIMEOUT_MS must be an integer in 0..600000, got "${value}"`,
    );
  });
});
