import { describe, expect, it } from "vitest";
import { planFiles, type RepoFile } from "./layout.ts";

const file = (path: string, size = 10): RepoFile => ({ path, size });
const XENOVA_LIKE = [
  "config.json",
  "preprocessor_config.json",
  "tokenizer.json",
  "vocab.json",
  "merges.txt",
  "tokenizer_config.json",
  "special_tokens_map.json",
  "README.md",
  "onnx/model.onnx",
  "onnx/text_model.onnx",
  "onnx/vision_model.onnx",
  "onnx/text_model_quantized.onnx",
  "onnx/vision_model_quantized.onnx",
  "onnx/text_model_int8.onnx",
].map((path) => file(path));

describe("planFiles", () => {
  it("picks config, tokenizer and the two encoders of the precision, nothing else", () => {
    const plan = planFiles("x/clip", XENOVA_LIKE, "quantized");
    expect(plan.ok && plan.files.map((f) => f.path)).toEqual([
      "config.json",
      "preprocessor_config.json",
      "tokenizer.json",
      "vocab.json",
      "merges.txt",
      "tokenizer_config.json",
      "special_tokens_map.json",
      "onnx/text_model_quantized.onnx",
      "onnx/vision_model_quantized.onnx",
    ]);
  });

  it("accepts a repo with only tokenizer.json, or only vocab.json + merges.txt", () => {
    const without = (...paths: string[]) => XENOVA_LIKE.filter((f) => !paths.includes(f.path));
    expect(planFiles("x/clip", without("vocab.json", "merges.txt"), "fp32").ok).toBe(true);
    expect(planFiles("x/clip", without("tokenizer.json"), "fp32").ok).toBe(true);
    expect(planFiles("x/clip", without("tokenizer.json", "merges.txt"), "fp32")).toMatchObject({
      ok: false,
      error: { code: "not-clip", message: expect.stringContaining("has no tokenizer") },
    });
  });

  it("names the missing config file", () => {
    const plan = planFiles(
      "x/clip",
      XENOVA_LIKE.filter((f) => f.path !== "preprocessor_config.json"),
      "fp32",
    );
    expect(plan).toMatchObject({
      ok: false,
      error: { code: "not-clip", message: expect.stringContaining("preprocessor_config.json") },
    });
  });

  it("suggests a precision the repo has when the asked one is missing", () => {
    const onlyFp16 = XENOVA_LIKE.filter((f) => !f.path.startsWith("onnx/")).concat(
      file("onnx/text_model_fp16.onnx"),
      file("onnx/vision_model_fp16.onnx"),
    );
    expect(planFiles("x/clip", onlyFp16, "fp32")).toMatchObject({
      ok: false,
      error: {
        code: "precision-missing",
        message: expect.stringContaining("it has fp16: pass --precision fp16"),
      },
    });
  });
});
