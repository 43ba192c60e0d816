import { describe, expect, it } from "vitest";
import { isShed, LATE_GRACE_MS, lateThresholdMs, summarizeDeadlines, WAITED_TO_FAIL_MS } from "./deadline.ts";
import type { Attempt, LogicalRequest } from "./types.ts";

// The edge's own wording (workers/services/gpu-client/gpu-client.ts), and a 503 that is not shedding.
const SHED = "the GPU tier is overloaded: this request would miss its deadline";
const DRAINING = "a GPU backend is draining";

const attempt = (latencyMs: number, fields: Partial<Attempt> = {}): Attempt => ({
  requestId: `soak.${latencyMs}`,
  startMs: 1_000,
  endMs: 1_000 + latencyMs,
  replayed: false,
  phase: "run",
  bodyBytes: 0,
  ...fields,
});
const request = (route: LogicalRequest["route"], ...attempts: Attempt[]): LogicalRequest => ({
  client: 0,
  seq: 0,
  route,
  encoding: "json",
  idempotencyKey: "k",
  images: 1,
  attempts,
});
const ok = { status: 200 };
const shed = { status: 503, code: "gpu_unavailable", detail: SHED };

describe("deadline accounting", () => {
  it("allows the deadline, a second of grace and the upload at 10 MiB/s", () => {
    expect(LATE_GRACE_MS).toBe(1_000);
    expect(lateThresholdMs({ bodyBytes: 0 }, 30_000)).toBe(31_000);
    expect(lateThresholdMs({ bodyBytes: 10 * 1024 * 1024 }, 30_000)).toBe(32_000);
    expect(lateThresholdMs({}, 5_000)).toBe(6_000);
  });

  it("tells shed answers from other 503s by the edge's detail", () => {
    expect(isShed(shed)).toBe(true);
    expect(isShed({ status: 503, code: "gpu_unavailable", detail: DRAINING })).toBe(false);
    expect(isShed({ status: 503, code: "gpu_unavailable" })).toBe(false);
    expect(isShed({ status: 504, code: "upstream_timeout", detail: SHED })).toBe(false);
    // The saturated edge's own refusal is shedding, whatever its detail says.
    expect(isShed({ status: 503, code: "overloaded", detail: "the edge is overloaded" })).toBe(true);
  });

  it("groups attempt latency by route and outcome: p50, p95 and max", () => {
    const summary = summarizeDeadlines(
      [
        request("classify", attempt(100, ok), attempt(300, ok)),
        request("classify", attempt(200, ok), attempt(15, shed)),
        request("captions", attempt(50, shed), attempt(400, ok)),
      ],
      30_000,
      35_000,
    );
    expect(summary.cells).toEqual([
      { route: "captions", outcome: "200", attempts: 1, p50: 400, p95: 400, max: 400, late: 0 },
      { route: "captions", outcome: "503 gpu_unavailable", attempts: 1, p50: 50, p95: 50, max: 50, late: 0 },
      { route: "classify", outcome: "200", attempts: 3, p50: 200, p95: 300, max: 300, late: 0 },
      { route: "classify", outcome: "503 gpu_unavailable", attempts: 1, p50: 15, p95: 15, max: 15, late: 0 },
    ]);
    expect(summary.shed).toEqual({
      count: 2,
      p50: 15,
      p95: 50,
      max: 50,
      byRoute: { classify: 1, captions: 1 },
    });
    expect(summary.late.count).toBe(0);
    expect(summary.waitedToFail.count).toBe(0);
  });

  it("counts answers after the threshold as late — the upload allowance included — and their maximum", () => {
    const summary = summarizeDeadlines(
      [
        request("classify", attempt(31_500, ok)), // small body: late
        request("classify", attempt(31_500, { ...ok, bodyBytes: 10 * 1024 * 1024 })), // 10 MiB upload: in time
        request("embeddings", attempt(40_000, { status: 504, code: "upstream_timeout" })), // late, and a slow failure
        request("embeddings", attempt(31_000, ok)), // exactly at the threshold: in time
      ],
      30_000,
      45_000,
    );
    expect(summary.late.count).toBe(2);
    expect(summary.late.maxMs).toBe(40_000);
    expect(summary.late.examples.map((l) => [l.route, l.outcome, l.latencyMs, l.thresholdMs])).toEqual([
      ["embeddings", "504 upstream_timeout", 40_000, 31_000],
      ["classify", "200", 31_500, 31_000],
    ]);
    expect(summary.cells.find((c) => c.route === "classify")?.late).toBe(1);
  });

  it("counts a client timeout as late only when the timeout was longer than the threshold", () => {
    const timedOut = [request("captions", attempt(35_000, { noAnswer: "timeout" }))];
    expect(summarizeDeadlines(timedOut, 30_000, 35_000).late.count).toBe(1);
    const short = [request("captions", attempt(1_000, { noAnswer: "timeout" }))];
    expect(summarizeDeadlines(short, 30_000, 1_000).late.count).toBe(0);
  });

  it("groups 5xx answers by their detail, digits folded, so other 503s show beside shed ones and a 502 says why", () => {
    const summary = summarizeDeadlines(
      [
        request("classify", attempt(10, { status: 503, code: "gpu_unavailable", detail: DRAINING })),
        request(
          "classify",
          attempt(10, { status: 504, code: "upstream_timeout", detail: "no answer within 30000 ms" }),
        ),
        request(
          "classify",
          attempt(10, { status: 504, code: "upstream_timeout", detail: "no answer within 1500 ms" }),
        ),
        request("classify", attempt(10, { status: 503 })),
        request(
          "classify",
          attempt(10, { status: 502, code: "upstream_error", detail: "the GPU tier's answer was cut off" }),
        ),
        request("classify", attempt(10, { status: 429, code: "rate_limited", detail: "slow down" })),
      ],
      30_000,
      35_000,
    );
    expect(summary.serverErrorsByDetail).toEqual({
      [`503 ${DRAINING}`]: 1,
      "504 no answer within N ms": 2,
      "503 (no detail)": 1,
      "502 the GPU tier's answer was cut off": 1,
    });
    expect(summary.shed.count).toBe(0);
  });

  it("counts failures that took 30 s — answers, timeouts and dropped connections, not successes", () => {
    expect(WAITED_TO_FAIL_MS).toBe(30_000);
    const summary = summarizeDeadlines(
      [
        request("classify", attempt(30_000, { status: 504, code: "upstream_timeout" })),
        request("classify", attempt(33_000, { noAnswer: "connection" })),
        request("classify", attempt(29_999, { status: 503, code: "gpu_unavailable" })),
        request("classify", attempt(30_500, ok)),
      ],
      60_000,
      65_000,
    );
    expect(summary.waitedToFail).toMatchObject({ count: 2, maxMs: 33_000 });
    expect(summary.waitedToFail.examples.map((l) => [l.outcome, l.latencyMs, l.startMs])).toEqual([
      ["no answer: connection", 33_000, 1_000],
      ["504 upstream_timeout", 30_000, 1_000],
    ]);
    expect(summary.late.count).toBe(0);
  });

  it("leaves out attempts the harness's own hard stop cut", () => {
    const summary = summarizeDeadlines(
      [request("classify", attempt(50_000, { noAnswer: "hard_stop" }))],
      30_000,
      35_000,
    );
    expect(summary).toMatchObject({ cells: [], late: { count: 0 }, waitedToFail: { count: 0 } });
  });
});
