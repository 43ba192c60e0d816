import { describe, expect, it } from "vitest";
import { findLeak, judgeBad, summarizeBad } from "./bad-judge.ts";
import type { Attempt, BadRef, LogicalRequest } from "./types.ts";

const EDGE_ONLY: BadRef = {
  id: "classify: invalid JSON",
  method: "POST",
  path: "/v1/classify",
  expected: { status: 400, code: "invalid_json" },
  needsGpu: false,
};
const NEEDS_GPU: BadRef = {
  id: "classify: a corrupt JPEG",
  method: "POST",
  path: "/v1/classify",
  expected: { status: 422, code: "all_inputs_failed" },
  needsGpu: true,
};
const answer = (status: number, code?: string, fields: Partial<Attempt> = {}): Attempt => ({
  requestId: "soak.x",
  startMs: 0,
  endMs: 10,
  replayed: false,
  phase: "run",
  status,
  code,
  ...fields,
});
const bad = (ref: BadRef, ...attempts: Attempt[]): LogicalRequest => ({
  client: 0,
  seq: 0,
  route: "bad",
  bad: ref,
  encoding: "other",
  idempotencyKey: "k",
  images: 0,
  attempts,
});

describe("finding stack traces and file paths in error bodies", () => {
  it("finds V8 stack frames (escaped in JSON too), file URLs, server paths and node_modules", () => {
    expect(findLeak('{"detail":"boom\\n    at run (file:///srv/app/x.ts:3:9)"}')).toContain("at run");
    expect(
      findLeak("TypeError: x is undefined\n    at Object.<anonymous> (/app/index.js:1:1)"),
    ).toBeDefined();
    expect(findLeak('{"detail":"failed in readBody (read-body.ts:42)"}')).toContain("read-body.ts:42");
    expect(findLeak('{"detail":"ENOENT: open \'/work/main/models/x.onnx\'"}')).toContain("/work/main");
    expect(findLeak('{"detail":"cannot find module node_modules/sharp"}')).toContain("node_modules");
    expect(findLeak('{"detail":"at C:\\\\srv\\\\app"}')).toBeDefined();
  });

  it("leaves the edge's real problem bodies alone: request paths, pointers, URLs, decoder messages", () => {
    const bodies = [
      '{"type":"https://clip-edge.dev/docs/errors#method_not_allowed","detail":"/v1/usage takes GET, not DELETE"}',
      '{"detail":"/images/0/url the host name resolves to a loopback address","errors":[{"pointer":"/images/0/url"}]}',
      '{"detail":"the body is not valid JSON: Unexpected end of JSON input at position 12"}',
      '{"errors":[{"pointer":"/images/0","detail":"invalid_image: image could not be decoded (Input buffer has corrupt header: VipsJpeg: premature end of JPEG image\\nVipsJpeg: JPEG datastream contains no image"}]}',
      '{"detail":"image URLs must use https: https://169.254.169.254/latest/meta-data/"}',
    ];
    for (const body of bodies) expect(findLeak(body)).toBeUndefined();
  });
});

describe("judging a bad request", () => {
  it("passes the expected status and code, after rate limits it retried", () => {
    expect(judgeBad(bad(EDGE_ONLY, answer(400, "invalid_json")))).toEqual({
      final: "400 invalid_json",
      problems: [],
      gpuRetries: 0,
    });
    expect(
      judgeBad(bad(EDGE_ONLY, answer(429, "rate_limited"), answer(400, "invalid_json"))).problems,
    ).toEqual([]);
  });

  it("fails a 2xx, another code, another status, and a request that ended on a rate limit", () => {
    expect(judgeBad(bad(EDGE_ONLY, answer(200))).problems).toContain("answered 200");
    expect(judgeBad(bad(EDGE_ONLY, answer(400, "invalid_request"))).problems).toEqual([
      "expected 400 invalid_json, got 400 invalid_request",
    ]);
    expect(judgeBad(bad(EDGE_ONLY, answer(422, "invalid_json"))).problems).toEqual([
      "expected 400 invalid_json, got 422 invalid_json",
    ]);
    expect(judgeBad(bad(EDGE_ONLY, answer(429, "rate_limited"))).problems).toEqual([
      "ended on 429 rate_limited after its retries",
    ]);
  });

  it("fails any 5xx where the edge alone decides; allows a retried 503/504 only where the GPU tier must", () => {
    expect(
      judgeBad(bad(EDGE_ONLY, answer(503, "gpu_unavailable"), answer(400, "invalid_json"))).problems,
    ).toEqual(["answered 503 gpu_unavailable"]);
    expect(judgeBad(bad(EDGE_ONLY, answer(500, "internal_error"))).problems).toEqual([
      "answered 500 internal_error",
    ]);
    const retried = judgeBad(
      bad(NEEDS_GPU, answer(503, "gpu_unavailable"), answer(422, "all_inputs_failed")),
    );
    expect(retried).toEqual({ final: "422 all_inputs_failed", problems: [], gpuRetries: 1 });
    // Retries exhausted on the 503: the case never got its verdict.
    expect(judgeBad(bad(NEEDS_GPU, answer(503, "gpu_unavailable"))).problems).toEqual([
      "answered 503 gpu_unavailable",
    ]);
    expect(
      judgeBad(bad(NEEDS_GPU, answer(502, "upstream_error"), answer(422, "all_inputs_failed"))).problems,
    ).toEqual(["answered 502 upstream_error"]);
    // A saturated edge refuses any request before judging it: retried, then the expected answer.
    expect(judgeBad(bad(EDGE_ONLY, answer(503, "overloaded"), answer(400, "invalid_json"))).problems).toEqual(
      [],
    );
    expect(judgeBad(bad(EDGE_ONLY, answer(503, "overloaded"))).problems).toEqual(["answered 503 overloaded"]);
  });

  it("fails an answer that is not problem+json, or shows a stack trace, and one that never came", () => {
    const plain = answer(400, undefined, {
      malformed: '400 is not a problem+json with a code (content-type "text/plain")',
    });
    expect(judgeBad(bad(EDGE_ONLY, plain)).problems).toEqual([plain.malformed]);
    const leaky = answer(400, "invalid_json", { leak: "at run (file:///srv/x.ts:3:9)" });
    expect(judgeBad(bad(EDGE_ONLY, leaky)).problems).toEqual([
      'a stack trace or file path in the body: "at run (file:///srv/x.ts:3:9)"',
    ]);
    const lost: Attempt = { ...answer(0), status: undefined, noAnswer: "timeout" };
    expect(judgeBad(bad(EDGE_ONLY, lost))).toMatchObject({
      final: "no answer: timeout",
      problems: ["no answer (no answer: timeout)"],
    });
  });
});

describe("the bad-input summary", () => {
  it("counts requests, final answers and failures per case, in corpus order, and the cases sent", () => {
    const summary = summarizeBad(
      [
        bad(NEEDS_GPU, answer(422, "all_inputs_failed")),
        bad(EDGE_ONLY, answer(400, "invalid_json")),
        bad(EDGE_ONLY, answer(200)),
        bad(NEEDS_GPU, answer(503, "gpu_unavailable"), answer(422, "all_inputs_failed")),
        { ...bad(EDGE_ONLY, answer(200)), bad: undefined, route: "classify" },
      ],
      [EDGE_ONLY.id, NEEDS_GPU.id, "captions: zero images"],
    );
    expect(summary).toMatchObject({ corpusSize: 3, casesSent: 2, requests: 4, failed: 1, gpuRetries: 1 });
    expect(summary.cases).toEqual([
      {
        id: EDGE_ONLY.id,
        expected: "400 invalid_json",
        sent: 2,
        answers: { "400 invalid_json": 1, "200": 1 },
        failed: 1,
        problems: ["answered 200"],
      },
      {
        id: NEEDS_GPU.id,
        expected: "422 all_inputs_failed",
        sent: 2,
        answers: { "422 all_inputs_failed": 2 },
        failed: 0,
        problems: [],
      },
    ]);
  });
});
