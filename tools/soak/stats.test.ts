import { describe, expect, it } from "vitest";
import { parseRetryAfter, retryDelayMs, retryReason } from "./retry.ts";
import { percentile, summarizeLatencies, summarizeTraffic, timeSplit } from "./stats.ts";
import type { Attempt, LogicalRequest } from "./types.ts";

const attempt = (fields: Partial<Attempt>): Attempt => ({
  requestId: "soak.x",
  startMs: 0,
  endMs: 10,
  replayed: false,
  phase: "run",
  ...fields,
});
const usage = (images: number, texts_computed = 0, texts_cached = 0) => ({
  images,
  texts_computed,
  texts_cached,
});
const request = (route: LogicalRequest["route"], attempts: Attempt[]): LogicalRequest => ({
  client: 0,
  seq: 0,
  route,
  encoding: "json",
  idempotencyKey: crypto.randomUUID(),
  images: 1,
  attempts,
});

describe("percentiles", () => {
  it("are nearest-rank: the smallest value with at least p% of values at or below it", () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1); // 1..100
    expect(percentile(sorted, 50)).toBe(50);
    expect(percentile(sorted, 95)).toBe(95);
    expect(percentile(sorted, 99)).toBe(99);
    expect(percentile(sorted, 100)).toBe(100);
    expect(percentile([10, 20, 30, 40], 50)).toBe(20);
    expect(percentile([10, 20, 30, 40], 51)).toBe(30);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([7, 8], 0)).toBe(7);
    expect(percentile([], 50)).toBeUndefined();
  });

  it("summaries sort their input first", () => {
    expect(summarizeLatencies([30, 10, 20, 40])).toEqual({
      count: 4,
      p50: 20,
      p95: 40,
      p99: 40,
      mean: 25,
      max: 40,
    });
    expect(summarizeLatencies([])).toEqual({ count: 0 });
  });
});

describe("the traffic summary", () => {
  const requests = [
    // Rate-limited twice, then served: final latency runs from the first attempt to the answer.
    request("classify", [
      attempt({ status: 429, code: "rate_limited", startMs: 0, endMs: 5 }),
      attempt({ status: 429, code: "rate_limited", startMs: 1005, endMs: 1010 }),
      attempt({ status: 200, usage: usage(2, 7, 14), startMs: 2010, endMs: 2110 }),
    ]),
    // The answer was lost; the retry got the stored one: its images count once.
    request("captions", [
      attempt({ noAnswer: "timeout", startMs: 0, endMs: 400 }),
      attempt({ status: 200, replayed: true, usage: usage(3), startMs: 650, endMs: 660 }),
    ]),
    // Retries used up on 503s.
    request("embeddings", [
      attempt({ status: 503, code: "gpu_unavailable", endMs: 20 }),
      attempt({ status: 503, code: "gpu_unavailable", startMs: 1020, endMs: 1030 }),
    ]),
    // Cut by the hard stop, then settled after the run (phase "resolve") as a replay.
    request("embeddings", [
      attempt({ noAnswer: "hard_stop", endMs: 50 }),
      attempt({
        phase: "resolve",
        status: 200,
        replayed: true,
        usage: usage(1),
        startMs: 70_000,
        endMs: 70_010,
      }),
    ]),
  ];
  const summary = summarizeTraffic(requests, 10);

  it("counts final answers and attempts by status and code", () => {
    expect(summary.requests).toBe(4);
    expect(summary.attempts).toBe(8); // run-phase attempts only
    expect(summary.answers).toEqual({ "200": 2, "503 gpu_unavailable": 1, "no answer: hard_stop": 1 });
    expect(summary.attemptOutcomes).toEqual({
      "200": 2,
      "429 rate_limited": 2,
      "503 gpu_unavailable": 2,
      "no answer: hard_stop": 1,
      "no answer: timeout": 1,
    });
  });

  it("measures final-answer latency across retries and attempt latency per exchange", () => {
    expect(summary.latencyMs.classify?.final).toMatchObject({ count: 1, p50: 2110 });
    expect(summary.latencyMs.classify?.attempts).toMatchObject({ count: 3, max: 100 });
    expect(summary.latencyMs.captions?.final).toMatchObject({ count: 1, p50: 660 });
    // The timed-out attempt has no answer, so no attempt latency.
    expect(summary.latencyMs.captions?.attempts.count).toBe(1);
    expect(summary.latencyMs.all?.final.count).toBe(2);
  });

  it("counts retries by reason, successes after retrying, give-ups and the settling after the run", () => {
    expect(summary.retries).toEqual({
      total: 4,
      byReason: { "429 rate_limited": 2, "503 gpu_unavailable": 1, timeout: 1 },
      requestsRetried: 3,
      succeededAfterRetry: 2,
      gaveUp: 1,
    });
    expect(summary.resolved).toEqual({ requests: 1, byOutcome: { "200": 1 } });
  });

  it("reports throughput per second of run, images served once per key", () => {
    expect(summary.throughput.okPerSecond).toBeCloseTo(0.2);
    expect(summary.throughput.answersPerSecond).toBeCloseTo(0.3); // the hard-stopped one never got an answer
    expect(summary.throughput.imagesPerSecond).toBeCloseTo(0.6); // 2 + 3 + 1 over 10 s
  });

  it("splits client time into GPU time and the rest", () => {
    const split = timeSplit(requests, 0.5);
    // Every run attempt but the hard-stopped one: 5 + 5 + 100 + 400 + 10 + 20 + 10 ms.
    expect(split.attempts).toBe(7);
    expect(split.clientSeconds).toBeCloseTo(0.55);
    expect(split.edgeMsPerAttempt).toBeCloseTo((550 - 500) / 7);
    expect(split.edgeShare).toBeCloseTo(50 / 550);
    expect(timeSplit([], 1).edgeShare).toBeUndefined();
  });
});

describe("the retry policy", () => {
  const policy = { retries: 3, capMs: 5_000 };

  it("retries 503, 504, 429 (not quota_exceeded), 409 in progress, timeouts and dropped connections", () => {
    expect(retryReason(attempt({ status: 503, code: "gpu_unavailable" }))).toBe("503 gpu_unavailable");
    expect(retryReason(attempt({ status: 504, code: "upstream_timeout" }))).toBe("504 upstream_timeout");
    expect(retryReason(attempt({ status: 429, code: "rate_limited" }))).toBe("429 rate_limited");
    expect(retryReason(attempt({ status: 409, code: "idempotency_in_progress" }))).toBeDefined();
    expect(retryReason(attempt({ noAnswer: "timeout" }))).toBe("timeout");
    expect(retryReason(attempt({ noAnswer: "connection" }))).toBe("connection");
    for (const final of [
      attempt({ status: 200 }),
      attempt({ status: 429, code: "quota_exceeded" }),
      attempt({ status: 422, code: "idempotency_key_reused" }),
      attempt({ status: 500, code: "internal_error" }),
      attempt({ status: 502, code: "upstream_error" }),
      attempt({ noAnswer: "hard_stop" }),
    ])
      expect(retryReason(final)).toBeUndefined();
  });

  it("waits Retry-After, capped, else backs off exponentially; stops after the allowed retries", () => {
    expect(retryDelayMs(attempt({ status: 503, retryAfterSeconds: 2 }), 0, policy, 0)).toBe(2_000);
    expect(retryDelayMs(attempt({ status: 503, retryAfterSeconds: 2 }), 0, policy, 0.5)).toBe(2_200);
    expect(
      retryDelayMs(attempt({ status: 429, code: "rate_limited", retryAfterSeconds: 3600 }), 0, policy, 0),
    ).toBe(5_000);
    expect(retryDelayMs(attempt({ noAnswer: "timeout" }), 0, policy, 0)).toBe(250);
    expect(retryDelayMs(attempt({ noAnswer: "timeout" }), 2, policy, 0)).toBe(1_000);
    expect(retryDelayMs(attempt({ noAnswer: "timeout" }), 3, policy, 0)).toBeUndefined();
    expect(retryDelayMs(attempt({ status: 400, code: "invalid_json" }), 0, policy, 0)).toBeUndefined();
  });

  it("reads Retry-After as seconds or an HTTP date", () => {
    expect(parseRetryAfter("3", 0)).toBe(3);
    expect(parseRetryAfter(" 0 ", 0)).toBe(0);
    const now = Date.parse("Wed, 21 Oct 2015 07:28:00 GMT");
    expect(parseRetryAfter("Wed, 21 Oct 2015 07:28:10 GMT", now)).toBe(10);
    expect(parseRetryAfter("Wed, 21 Oct 2015 07:27:00 GMT", now)).toBe(0);
    expect(parseRetryAfter(null, 0)).toBeUndefined();
    expect(parseRetryAfter("soon", 0)).toBeUndefined();
  });
});
