/**
 * The tiny CLIP's acceptance bars, measured on renders from seeds never used in training:
 * zero-shot top-1 over the 32 "a photo of a {colour} {shape}." prompts ≥ 90% (≥ 70% on the held-out pairs),
 * and caption retrieval over the caption bank with the right colour and shape ≥ 85%.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { evaluateModel } from "./tiny-clip-eval.ts";

const MODEL_DIR = join(import.meta.dirname, "../../models/tiny-clip");

describe("tiny CLIP accuracy on the shapes world", () => {
  it("recognises colour and shape zero-shot, held-out pairs included, and retrieves the right captions", async () => {
    const report = await evaluateModel(MODEL_DIR);
    console.log(
      `tiny-clip: zero-shot ${(report.zeroShot * 100).toFixed(1)}% of 256 (seen ${(report.zeroShotSeen * 100).toFixed(1)}%,` +
        ` held-out ${(report.zeroShotHeldOut * 100).toFixed(1)}% of ${report.heldOutImages}),` +
        ` caption retrieval ${(report.retrieval * 100).toFixed(1)}% of ${report.images}`,
    );
    expect(report.zeroShot).toBeGreaterThanOrEqual(0.9);
    expect(report.zeroShotHeldOut).toBeGreaterThanOrEqual(0.7);
    expect(report.retrieval).toBeGreaterThanOrEqual(0.85);
  });
});
