import { describe, expect, inject, it } from "vitest";
import type { ClassifyResponse } from "../../src/api/index.ts";
import { postJson, shape } from "../../test/support/workers/worker.ts";

// Nothing listens on port 9 (discard): connections are refused at once, as when the GPU tier is stopped.
const DEAD = "http://127.0.0.1:9";
const request = () => ({
  images: [{ base64: shape("red circle").base64 }],
  labels: ["red circle", "blue star"],
  templates: ["a photo of a {}."],
});

describe("when the GPU tier is down", () => {
  it("answers 503 problem+json with Retry-After, never hanging", async () => {
    const response = await postJson("/v1/classify", request(), {
      GPU_BACKENDS: `${DEAD},http://127.0.0.1:7`,
    });
    expect(response.status).toBe(503);
    expect(Number(response.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(((await response.json()) as { code: string }).code).toBe("gpu_unavailable");
  });

  it("falls back to Hugging Face's zero-shot classification (tested against the GPU service's HF-compatible route)", async () => {
    const response = await postJson("/v1/classify", request(), {
      GPU_BACKENDS: DEAD,
      HF_TOKEN: inject("hfToken"),
      HF_ENDPOINT_URL: `${inject("gpuUrl")}/hf/zero-shot-image-classification`,
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as ClassifyResponse;
    expect(body.provider).toBe("huggingface");
    const labels = body.results[0]?.labels ?? [];
    expect(labels.map((l) => l.label).sort()).toEqual(["blue star", "red circle"]);
    expect(labels.reduce((s, l) => s + l.score, 0)).toBeCloseTo(1, 6);
    // The hosted API gives scores only: the raw cosine is null, as the response type says.
    for (const l of labels) expect(l.similarity).toBeNull();
  });

  it("does not fall back when no Hugging Face provider is configured", async () => {
    const response = await postJson("/v1/classify", request(), { GPU_BACKENDS: DEAD, HF_TOKEN: "" });
    expect(response.status).toBe(503);
  });
});
