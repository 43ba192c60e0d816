import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ConfigError, readEdgeConfig } from "./config.ts";

const bindings = env as unknown as Record<string, unknown>;

describe("readEdgeConfig: every binding and variable, validated once", () => {
  it("reads the test deployment's bindings, with the defaults for what is unset", () => {
    const config = readEdgeConfig(bindings);
    expect(config.GPU_BACKENDS.length).toBeGreaterThan(0);
    expect(config.REQUEST_DEADLINE_MS).toBe(30_000);
    expect(Object.keys(config.BILLING_PLANS)).toContain("free");
    expect(config.DB).toBe(env.DB);
  });

  it("names every problem at once: a missing binding, a bad plan table, a short secret or admin token", () => {
    const broken = {
      ...bindings,
      DB: undefined,
      BILLING_PLANS: "{not json",
      GPU_SHARED_SECRET: "short",
      ADMIN_TOKEN: "abc",
    };
    let error: unknown;
    try {
      readEdgeConfig(broken);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toMatch(/the D1 binding DB is missing/);
    expect(message).toMatch(/BILLING_PLANS is not JSON/);
    expect(message).toMatch(/GPU_SHARED_SECRET must be at least 32 characters/);
    expect(message).toMatch(/ADMIN_TOKEN must be empty or at least 32 characters/);
  });

  it("leaves the public API up without an admin token (the admin routes then refuse everyone)", () => {
    expect(readEdgeConfig({ ...bindings, ADMIN_TOKEN: "" }).ADMIN_TOKEN).toBe("");
  });
});
