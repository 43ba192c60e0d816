import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ALL_PAIRS, captionBank, isHeldOut, renderShapeSample } from "../../shapes-world/index.ts";
import type { CaptionsResponse, ClassifyResponse } from "../../src/api/index.ts";
import { type EdgeStack, startEdgeStack } from "../support/edge-stack.ts";
import { modelPresent } from "../support/gpu-service.ts";
import { TEST_RENDER_SEED } from "../support/shapes.ts";

const LABELS = ALL_PAIRS.map((p) => `${p.colour} ${p.shape}`);
/** The model card's protocol: seeds never used in training (11), validation (12) or the BPE corpus (1001). */
const EVAL = { mixed: { seed: 4242, count: 256 }, heldOut: { seed: 4243, count: 64 } };

/**
 * The embedded model's acceptance bars, measured once, through the whole product: renders → edge (workerd) →
 * signed batch → GPU service (sharp + onnxruntime) → scores back through the edge. Zero-shot over the 32 prompts
 * "a photo of a {colour} {shape}." ≥ 90% (≥ 70% on the held-out pairs) by /v1/classify, and caption retrieval —
 * the top caption of /v1/captions names the right colour and shape — ≥ 85%. The model card quotes these figures.
 */
describe.skipIf(!modelPresent())("end to end: the embedded model's accuracy through the API", () => {
  let stack: EdgeStack;
  beforeAll(async () => {
    stack = await startEdgeStack();
  }, 180_000);
  afterAll(() => stack?.stop());

  const post = async <T>(path: string, body: unknown): Promise<T> => {
    const response = await fetch(`${stack.edgeUrl}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...stack.apiHeaders },
      body: JSON.stringify(body),
    });
    expect(response.status, await response.clone().text()).toBe(200);
    return (await response.json()) as T;
  };

  it("labels ≥ 90% of fresh renders right zero-shot (≥ 70% on held-out pairs) and retrieves ≥ 85% of captions", async () => {
    const render = (seed: number, count: number, pairs: "all" | "held-out") =>
      Promise.all(Array.from({ length: count }, (_, i) => renderShapeSample(seed, i, { pairs })));
    const mixed = await render(EVAL.mixed.seed, EVAL.mixed.count, "all");
    const samples = [...mixed, ...(await render(EVAL.heldOut.seed, EVAL.heldOut.count, "held-out"))];
    const bank = new Map(captionBank().map((c) => [c.text, c]));
    let mixedRight = 0;
    const heldOut = { n: 0, right: 0 };
    let retrieved = 0;
    for (let start = 0; start < samples.length; start += 16) {
      const batch = samples.slice(start, start + 16);
      const images = batch.map((s) => ({ base64: Buffer.from(s.bytes).toString("base64") }));
      const [labels, captions] = await Promise.all([
        post<ClassifyResponse>("/v1/classify", {
          images,
          labels: LABELS,
          templates: ["a photo of a {}."],
          top_k: 1,
        }),
        post<CaptionsResponse>("/v1/captions", { images, top_k: 1 }),
      ]);
      for (const [i, sample] of batch.entries()) {
        const right = labels.results[i]?.labels[0]?.label === `${sample.colour} ${sample.shape}`;
        if (start + i < mixed.length) mixedRight += Number(right);
        if (isHeldOut(sample)) {
          heldOut.n++;
          heldOut.right += Number(right);
        }
        const caption = bank.get(captions.results[i]?.captions[0]?.text ?? "");
        retrieved += Number(caption?.colour === sample.colour && caption.shape === sample.shape);
      }
    }
    const zeroShot = mixedRight / mixed.length;
    const heldOutAccuracy = heldOut.right / heldOut.n;
    const retrieval = retrieved / samples.length;
    console.log(
      `end to end: zero-shot top-1 ${(zeroShot * 100).toFixed(1)}% of ${mixed.length}; held-out pairs ` +
        `${(heldOutAccuracy * 100).toFixed(1)}% of ${heldOut.n}; caption retrieval ${(retrieval * 100).toFixed(1)}% of ${samples.length}`,
    );
    expect(zeroShot).toBeGreaterThanOrEqual(0.9);
    expect(heldOutAccuracy).toBeGreaterThanOrEqual(0.7);
    expect(retrieval).toBeGreaterThanOrEqual(0.85);
  }, 300_000);

  it("answers 503 with Retry-After once the GPU tier is stopped", async () => {
    const sample = await renderShapeSample(TEST_RENDER_SEED + 2, 0, { pairs: "all" });
    await stack.gpu.stop();
    const response = await fetch(`${stack.edgeUrl}/v1/classify`, {
      method: "POST",
      headers: { "content-type": "application/json", ...stack.apiHeaders },
      body: JSON.stringify({
        images: [{ base64: Buffer.from(sample.bytes).toString("base64") }],
        labels: ["a new label nobody cached"],
      }),
    });
    expect(response.status).toBe(503);
    expect(response.headers.get("content-type")).toBe("application/problem+json");
    expect(Number(response.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
  }, 60_000);
});
