import { describe, expect, it } from "vitest";
import { isUnavailableStatus, parseRetryAfter } from "./http-status.ts";
import { isRetryable, type PullErrorCode } from "./outcome.ts";
import { retryDelay } from "./retry.ts";

describe("when to try again", () => {
  it("takes 408, 429 and 5xx for a busy Hub, and no other status", () => {
    expect([408, 429, 500, 502, 503, 504, 599].every(isUnavailableStatus)).toBe(true);
    expect([200, 206, 400, 401, 403, 404, 416, 600].some(isUnavailableStatus)).toBe(false);
  });

  it("reads Retry-After as seconds or as an HTTP date", () => {
    const now = Date.parse("2026-12-01T10:00:00Z");
    expect(parseRetryAfter("120", now)).toBe(120_000);
    expect(parseRetryAfter(" 0 ", now)).toBe(0);
    expect(parseRetryAfter("Tue, 01 Dec 2026 10:00:05 GMT", now)).toBe(5_000);
    expect(parseRetryAfter("Tue, 01 Dec 2026 09:00:00 GMT", now)).toBe(0);
    for (const unreadable of [null, undefined, "", "soon", "-1", "1.5"])
      expect(parseRetryAfter(unreadable, now)).toBeUndefined();
  });

  it("waits what Retry-After asks, at most the cap, else doubles the delay at each attempt", () => {
    const timings = { retryDelayMs: 1000, retryAfterCapMs: 30_000 };
    const busy = (retryAfterMs?: number) => ({
      code: "hub-unavailable" as const,
      message: "busy",
      ...(retryAfterMs !== undefined && { retryAfterMs }),
    });
    expect([0, 1, 2].map((attempt) => retryDelay(attempt, timings, busy()))).toEqual([1000, 2000, 4000]);
    expect(retryDelay(2, timings, busy(0))).toBe(0);
    expect(retryDelay(0, timings, busy(7_000))).toBe(7_000);
    expect(retryDelay(0, timings, busy(3_600_000))).toBe(30_000);
  });

  it("calls a failure retryable only when a later start may not meet it again (the container's exit 1, else 2)", () => {
    const retryable: PullErrorCode[] = [
      "hub-unavailable",
      "network",
      "interrupted",
      "size-mismatch",
      "checksum-mismatch",
      "hub-error",
      "locked",
    ];
    const configuration: PullErrorCode[] = [
      "usage",
      "bad-token",
      "repo-not-found",
      "revision-not-found",
      "access-denied",
      "not-clip",
      "precision-missing",
      "filesystem",
      "invalid-folder",
      "not-complete",
    ];
    expect(retryable.filter((code) => !isRetryable(code))).toEqual([]);
    expect(configuration.filter(isRetryable)).toEqual([]);
  });
});
