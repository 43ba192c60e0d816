import { describe, expect, it } from "vitest";
import { GPU_PROBLEM_STATUS, parseGpuCaptionsReply, parseGpuProblem } from "./gpu-replies.ts";

const bytes = (value: unknown) =>
  new TextEncoder().encode(typeof value === "string" ? value : JSON.stringify(value));

describe("parseGpuProblem", () => {
  it("reads every code of the shared list, and its detail", () => {
    for (const code of Object.keys(GPU_PROBLEM_STATUS))
      expect(parseGpuProblem(bytes({ code, detail: "why" }), "application/problem+json")).toEqual({
        code,
        detail: "why",
      });
    expect(parseGpuProblem(bytes({ code: "shed" }), "application/problem+json")).toEqual({
      code: "shed",
      detail: "",
    });
  });

  it("is undefined for what is not one of our problems: another code, not JSON, not a JSON type", () => {
    expect(
      parseGpuProblem(bytes({ code: "teapot", detail: "x" }), "application/problem+json"),
    ).toBeUndefined();
    expect(parseGpuProblem(bytes("<html>502 Bad Gateway</html>"), "application/json")).toBeUndefined();
    expect(parseGpuProblem(bytes({ code: "shed" }), "text/plain")).toBeUndefined();
    expect(parseGpuProblem(bytes({ detail: "no code" }), "application/json")).toBeUndefined();
  });
});

describe("parseGpuCaptionsReply", () => {
  const reply = {
    model: "clip-edge/tiny-clip",
    preprocessing: "pil-exact-2+abc",
    results: [
      { status: "ok", captions: [{ index: 3, text: "a red circle", score: 0.31 }] },
      { status: "invalid_image", message: "not an image" },
    ],
  };

  it("accepts the reply the GPU tier sends, per image a result or its error", () => {
    expect(parseGpuCaptionsReply(bytes(reply))).toEqual({ ok: true, value: reply });
  });

  it("names what is wrong with a reply that does not match, instead of passing it on", () => {
    const wrongStatus = { ...reply, results: [{ status: "exploded", message: "?" }] };
    expect(parseGpuCaptionsReply(bytes(wrongStatus))).toMatchObject({ ok: false, message: /results\.0/ });
    const noScore = { ...reply, results: [{ status: "ok", captions: [{ index: 0, text: "x" }] }] };
    expect(parseGpuCaptionsReply(bytes(noScore))).toMatchObject({ ok: false, message: /score/ });
    expect(parseGpuCaptionsReply(bytes({ results: [] }))).toMatchObject({ ok: false, message: /model/ });
    expect(parseGpuCaptionsReply(bytes("not json"))).toEqual({
      ok: false,
      message: "the GPU tier's caption answer is not JSON",
    });
  });
});
