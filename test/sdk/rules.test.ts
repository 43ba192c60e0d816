// The SDK's pure rules: the downsizing size, the backoff, Retry-After and which errors are retried. The client's
// behaviour end to end is in test/e2e/sdk.test.ts, against the real stack.
import { describe, expect, it } from "vitest";
import { targetSize } from "../../sdk/typescript/src/downsize.ts";
import { ClipEdgeError, parseRetryAfter } from "../../sdk/typescript/src/errors.ts";
import { bytesToBase64, encodeImages } from "../../sdk/typescript/src/images.ts";
import { isRetryable, retryDelayMs, send } from "../../sdk/typescript/src/transport.ts";
import { recommendedUpload } from "../../src/api/index.ts";

describe("targetSize", () => {
  it("puts the short side at the recommended size, keeps the aspect, never enlarges", () => {
    const { min_short_side } = recommendedUpload(224);
    expect(targetSize(4032, 3024, min_short_side)).toEqual({ width: 598, height: 448 });
    expect(targetSize(1500, 2000, min_short_side)).toEqual({ width: 448, height: 598 });
    expect(targetSize(300, 200, min_short_side)).toEqual({ width: 300, height: 200 });
  });
});

describe("retryDelayMs", () => {
  const limits = { base: 500, max: 30_000 };
  it("draws below a doubling ceiling (full jitter), capped", () => {
    expect(retryDelayMs(1, undefined, limits, () => 0.999)).toBe(499);
    expect(retryDelayMs(3, undefined, limits, () => 0.999)).toBe(1998);
    expect(retryDelayMs(20, undefined, limits, () => 0.999)).toBe(29_970);
    expect(retryDelayMs(3, undefined, limits, () => 0)).toBe(0);
  });
  it("never waits less than Retry-After", () => {
    expect(retryDelayMs(1, 2, limits, () => 0.5)).toBe(2000);
  });
});

describe("parseRetryAfter", () => {
  it("reads seconds and HTTP dates", () => {
    expect(parseRetryAfter("3")).toBe(3);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6);
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter("soon")).toBeUndefined();
  });
});

describe("isRetryable", () => {
  // An answer from the API carries a problem document; one from a proxy in front of it does not.
  const error = (code: ClipEdgeError["code"], status: number, fromApi = status > 0) =>
    new ClipEdgeError({
      code,
      status,
      message: code,
      problem: fromApi ? problemOf(code, status) : undefined,
    });
  const problemOf = (code: ClipEdgeError["code"], status: number) =>
    ({ code, status, type: "about:blank", title: code, detail: code, request_id: "req_test" }) as NonNullable<
      ClipEdgeError["problem"]
    >;
  it("retries what waiting fixes, not a used-up quota or a bad request", () => {
    expect(isRetryable(error("rate_limited", 429))).toBe(true);
    expect(isRetryable(error("gpu_unavailable", 503))).toBe(true);
    expect(isRetryable(error("network_error", 0))).toBe(true);
    expect(isRetryable(error("quota_exceeded", 429))).toBe(false);
    expect(isRetryable(error("invalid_request", 400))).toBe(false);
    expect(isRetryable(error("timeout", 0))).toBe(false);
  });
  it("retries a 429 from something in front of the API (no problem document), as it does a 503", () => {
    expect(isRetryable(error("invalid_request", 429, false))).toBe(true);
    expect(isRetryable(error("internal_error", 503, false))).toBe(true);
    expect(isRetryable(error("invalid_request", 400, false))).toBe(false);
  });
});

describe("send, given answers no local stack gives on cue (a proxy's, a broken server's)", () => {
  /** A fetch answering `answers` in turn, counting its calls: the transport's rules, not the network, are tested. */
  const answering = (...answers: (() => Response)[]) => {
    const calls: RequestInit[] = [];
    const fetch = async (_: unknown, init?: RequestInit) => {
      calls.push(init ?? {});
      return (answers[Math.min(calls.length, answers.length) - 1] as () => Response)();
    };
    return { calls, fetch: fetch as typeof globalThis.fetch };
  };
  const limited = () =>
    new Response(
      JSON.stringify({
        code: "rate_limited",
        status: 429,
        title: "t",
        detail: "slow down",
        request_id: "req_1",
      }),
      {
        status: 429,
        headers: { "content-type": "application/problem+json", "retry-after": "30" },
      },
    );
  const options = (fetch: typeof globalThis.fetch) => ({
    apiKey: "sk_test",
    baseUrl: "http://127.0.0.1:9",
    fetch,
  });

  it("ends at once with the server's rate_limited and its Retry-After when the wait would outlast the call", async () => {
    const { calls, fetch } = answering(limited);
    const error: ClipEdgeError = await send<never>(
      options(fetch),
      { method: "POST", path: "/v1/rank", body: () => ({}) },
      { timeoutMs: 2_000 },
    ).catch((e: unknown) => e as ClipEdgeError);
    expect(error).toBeInstanceOf(ClipEdgeError);
    expect({ code: error.code, retryAfter: error.retryAfter }).toEqual({
      code: "rate_limited",
      retryAfter: 30,
    });
    expect(calls).toHaveLength(1);
  });

  it("never sends a POST again when its 2xx answer is not JSON: invalid_response, with the status and request id", async () => {
    const { calls, fetch } = answering(
      () => new Response("<html>oops", { status: 200, headers: { "x-request-id": "req_2" } }),
    );
    const error: ClipEdgeError = await send<never>(options(fetch), {
      method: "POST",
      path: "/v1/rank",
      body: () => ({}),
    }).catch((e: unknown) => e as ClipEdgeError);
    expect({ code: error.code, status: error.status, requestId: error.requestId }).toEqual({
      code: "invalid_response",
      status: 200,
      requestId: "req_2",
    });
    expect(calls).toHaveLength(1);
  });
});

describe("encodeImages", () => {
  it("turns image fields of any depth into base64, leaving other strings and urls alone", async () => {
    const bytes = new Uint8Array([1, 2, 3, 250]);
    expect(
      await encodeImages({ input: ["text", { image: bytes }], query: { image: { url: "https://x/y.jpg" } } }),
    ).toEqual({
      input: ["text", { image: { base64: bytesToBase64(bytes) } }],
      query: { image: { url: "https://x/y.jpg" } },
    });
    expect(bytesToBase64(bytes)).toBe(Buffer.from(bytes).toString("base64"));
  });
});
