import { describe, expect, it } from "vitest";
import { ConfigError, readServiceConfig } from "./config.ts";

const base = { GPU_SHARED_SECRET: "s".repeat(32) };

describe("ORT_SPIN", () => {
  it("is off on a CPU host, where inference shares its cores with preprocessing, and on with a GPU provider", () => {
    expect(readServiceConfig(base).spinIntraOpThreads).toBe(false);
    expect(readServiceConfig({ ...base, ORT_PROVIDERS: "cuda,cpu" }).spinIntraOpThreads).toBe(true);
    expect(readServiceConfig({ ...base, ORT_SPIN: "on" }).spinIntraOpThreads).toBe(true);
    expect(readServiceConfig({ ...base, ORT_PROVIDERS: "cuda", ORT_SPIN: "off" }).spinIntraOpThreads).toBe(
      false,
    );
  });

  it.each(["1", "true", "yes", ""])("refuses %j at start", (value) => {
    expect(() => readServiceConfig({ ...base, ORT_SPIN: value })).toThrow(ConfigError);
    expect(() => readServiceConfig({ ...base, ORT_SPIN: value })).toThrow(
      `ORT_SPIN must be on or off, got "${value}"`,
    );
  });
});

describe("ORT_INTER_OP_THREADS", () => {
  it("is unset by default (sequential execution) and takes a positive integer", () => {
    expect(readServiceConfig(base).interOpThreads).toBeUndefined();
    expect(readServiceConfig({ ...base, ORT_INTER_OP_THREADS: "2" }).interOpThreads).toBe(2);
  });

  it.each(["0", "-1", "1.5", "two"])("refuses %j at start", (value) => {
    expect(() => readServiceConfig({ ...base, ORT_INTER_OP_THREADS: value })).toThrow(
      `ORT_INTER_OP_THREADS must be an integer in 1..1024, got "${value}"`,
    );
  });
});

describe("INFERENCE_THREAD", () => {
  it("runs the encoders on their own thread by default; off keeps them on the event loop", () => {
    expect(readServiceConfig(base).inferenceThread).toBe(true);
    expect(readServiceConfig({ ...base, INFERENCE_THREAD: "off" }).inferenceThread).toBe(false);
    expect(() => readServiceConfig({ ...base, INFERENCE_THREAD: "0" })).toThrow(
      'INFERENCE_THREAD must be on or off, got "0"',
    );
  });
});
