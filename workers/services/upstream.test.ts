import { describe, expect, it } from "vitest";
import { ApiError } from "../errors.ts";
import { failed, servedOrThrow, succeeded, upstreamProblem, withinBudget } from "./upstream.ts";

describe("upstream outcomes", () => {
  it("map to the public problem in one place: Retry-After only where waiting helps", () => {
    const unavailable = upstreamProblem(failed("gpu_unavailable", "down", 7).failure);
    expect(unavailable).toBeInstanceOf(ApiError);
    expect([unavailable.code, unavailable.options.retryAfterSeconds]).toEqual(["gpu_unavailable", 7]);
    expect(upstreamProblem(failed("upstream_timeout", "slow", 2).failure).options.retryAfterSeconds).toBe(2);
    // A cancelled call never reaches a client as success; if it surfaces, it is a retryable unavailability.
    expect(upstreamProblem(failed("cancelled", "gone").failure).code).toBe("gpu_unavailable");
    const broken = upstreamProblem(failed("upstream_error", "bad answer").failure);
    expect([broken.code, broken.options.retryAfterSeconds]).toEqual(["upstream_error", undefined]);
    expect(upstreamProblem(failed("no_caption_bank", "none").failure).code).toBe("no_caption_bank");
  });

  it("servedOrThrow gives the value or throws the mapped problem", () => {
    expect(servedOrThrow(succeeded(42))).toBe(42);
    expect(() => servedOrThrow(failed("upstream_timeout", "slow"))).toThrow(ApiError);
  });

  it("failed() rounds Retry-After up to whole seconds, at least 1", () => {
    expect(failed("gpu_unavailable", "x", 0.2).failure.retryAfterSeconds).toBe(1);
    expect(failed("gpu_unavailable", "x", 2.1).failure.retryAfterSeconds).toBe(3);
  });
});

describe("withinBudget", () => {
  it("gives the work's outcome when it comes in time", async () => {
    expect(await withinBudget(Promise.resolve(succeeded("done")), { deadline: Date.now() + 60_000 })).toEqual(
      succeeded("done"),
    );
  });

  it("stops waiting at the deadline, or when the signal aborts, while the work goes on", async () => {
    let finish: (v: ReturnType<typeof succeeded<string>>) => void = () => {};
    const work = new Promise<ReturnType<typeof succeeded<string>>>((resolve) => {
      finish = resolve;
    });
    expect(await withinBudget(work, { deadline: Date.now() + 10 })).toMatchObject({
      ok: false,
      failure: { code: "upstream_timeout" },
    });
    const gone = new AbortController();
    const waiting = withinBudget(work, { deadline: Date.now() + 60_000, signal: gone.signal });
    gone.abort();
    expect(await waiting).toMatchObject({ ok: false, failure: { code: "cancelled" } });
    expect(await withinBudget(work, { deadline: 0 }, () => 1)).toMatchObject({ ok: false });
    finish(succeeded("late"));
    expect(await work).toEqual(succeeded("late"));
  });
});
