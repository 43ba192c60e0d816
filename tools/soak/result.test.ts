import { describe, expect, it } from "vitest";
import { failuresOf } from "./result.ts";
import type { Attempt, LogicalRequest } from "./types.ts";

const passing = {
  reconciliation: { ok: true },
  traffic: { throughput: { okPerSecond: 1 } },
  settle: { export: { how: "matched" } },
} as Parameters<typeof failuresOf>[0];

const requestOf = (...attempts: Partial<Attempt>[]): LogicalRequest => ({
  client: 0,
  seq: 0,
  route: "captions",
  encoding: "json",
  idempotencyKey: "k",
  images: 1,
  attempts: attempts.map((a) => ({
    requestId: "r",
    startMs: 0,
    endMs: 1,
    replayed: false,
    phase: "run",
    ...a,
  })),
});

const badRequest = (...attempts: Partial<Attempt>[]): LogicalRequest => ({
  ...requestOf(...attempts),
  route: "bad",
  bad: {
    id: "classify: invalid JSON",
    method: "POST",
    path: "/v1/classify",
    expected: { status: 400, code: "invalid_json" },
    needsGpu: false,
  },
});

describe("what fails a run with bad input and deadlines", () => {
  it("not the expected 4xx of bad requests, nor a shed 503 on a valid one", () => {
    const requests = [
      badRequest({ status: 400, code: "invalid_json" }),
      requestOf({ status: 503, code: "gpu_unavailable", detail: "would miss its deadline" }, { status: 200 }),
    ];
    expect(failuresOf(passing, requests)).toEqual([]);
  });

  it("each bad-input case answered wrongly, a leaked stack trace, late answers and slow failures", () => {
    const failing = {
      ...passing,
      bad: {
        cases: [
          {
            id: "classify: invalid JSON",
            expected: "400 invalid_json",
            sent: 3,
            answers: {},
            failed: 2,
            problems: ["answered 200"],
          },
          {
            id: "usage: DELETE",
            expected: "405 method_not_allowed",
            sent: 1,
            answers: {},
            failed: 0,
            problems: [],
          },
        ],
      },
      deadline: { graceMs: 1000, late: { count: 2, maxMs: 40_000.4 }, waitedToFail: { count: 1 } },
    } as unknown as Parameters<typeof failuresOf>[0];
    const requests = [badRequest({ status: 400, code: "invalid_json", leak: "at x (file:///a.ts:1:1)" })];
    expect(failuresOf(failing, requests)).toEqual([
      "1 × a stack trace or file path in an error body",
      'bad input "classify: invalid JSON": 2 of 3 wrong (answered 200)',
      "2 answer(s) later than the deadline + 1000 ms + upload (latest 40000 ms)",
      "1 attempt(s) waited 30 s or more to fail",
    ]);
  });
});

describe("what fails a run", () => {
  it("nothing, for 2xx answers, 503/504, rate limits and 409 in progress", () => {
    const requests = [
      requestOf(
        { status: 503, code: "gpu_unavailable" },
        { status: 504, code: "upstream_timeout" },
        { status: 200 },
      ),
      requestOf({ status: 429, code: "rate_limited" }, { status: 409, code: "idempotency_in_progress" }),
      requestOf({ noAnswer: "timeout" }),
    ];
    expect(failuresOf(passing, requests)).toEqual([]);
  });

  it("any other 5xx, an error that is not problem+json, and any other 4xx, counted by kind", () => {
    const requests = [
      requestOf({ status: 500, code: "internal_error" }, { status: 500, code: "internal_error" }),
      requestOf({ status: 502, code: "upstream_error" }),
      requestOf({ status: 422, code: "idempotency_key_reused" }),
      requestOf({ status: 200, malformed: "200 without a valid usage member" }),
    ];
    expect(failuresOf(passing, requests)).toEqual([
      "2 × 500 internal_error",
      "1 × 502 upstream_error",
      "1 × unexpected 422 idempotency_key_reused",
      "1 × malformed answer: 200 without a valid usage member",
    ]);
  });

  it("billing that does not reconcile, no 2xx at all, an export that never settled, a fault not injected", () => {
    const failing = {
      reconciliation: { ok: false },
      traffic: { throughput: { okPerSecond: 0 } },
      settle: { export: { how: "deadline" } },
      fault: { refused: "pid 4242 does not look like the GPU service" },
    } as Parameters<typeof failuresOf>[0];
    expect(failuresOf(failing, [])).toEqual([
      "billing does not reconcile (see the differences above)",
      "no request was answered 2xx",
      "the billing export did not settle in time",
      "the fault was not injected: pid 4242 does not look like the GPU service",
    ]);
  });
});
