import { basename, dirname, resolve } from "node:path";
import { AutoProcessor, CLIPVisionModelWithProjection, env, RawImage } from "@huggingface/transformers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderShapeSample } from "../shapes-world/index.ts";
import { decodeResponse, embeddingToFloat32 } from "../src/protocol/index.ts";
import { cosineSimilarity } from "../src/vector/index.ts";
import {
  frame,
  modelPresent,
  signedPost,
  startTestService,
  TEST_MODEL_DIR,
} from "../test/support/gpu-service.ts";
import type { RunningService } from "./service.ts";

/**
 * The whole GPU tier — our decoding and PIL-exact preprocessing, batching, onnxruntime — against Transformers.js's
 * own pipeline (its image processor, its onnxruntime session) on the same files: the embeddings must agree.
 */
describe.skipIf(!modelPresent())("GPU service embeddings equal Transformers.js's for the same images", () => {
  let service: RunningService;
  beforeAll(async () => {
    service = await startTestService();
  }, 120_000);
  afterAll(() => service?.shutdown());

  it("cosine ≥ 0.999 on phone-like photos of several sizes, aspect ratios and formats", async () => {
    const images = await Promise.all([
      ...Array.from({ length: 6 }, (_, i) =>
        renderShapeSample(0x7a51, i, {
          pairs: "all",
          format: "jpeg",
          megapixels: [0.3, 1, 2, 0.5, 3, 1.5][i],
        }),
      ),
      ...Array.from({ length: 4 }, (_, i) => renderShapeSample(0x7a52, i, { pairs: "all", format: "png" })),
    ]);
    const response = await signedPost(
      `${service.url}/v1/embed/images`,
      frame({ kind: "images", dtype: "f32", images: images.map((s) => s.bytes) }),
    );
    const decoded = decodeResponse(new Uint8Array(await response.arrayBuffer()));
    if (!decoded.ok) throw new Error(decoded.message);

    const modelDir = resolve(TEST_MODEL_DIR);
    env.allowRemoteModels = false;
    env.localModelPath = `${dirname(modelDir)}/`;
    const processor = await AutoProcessor.from_pretrained(basename(modelDir));
    const vision = await CLIPVisionModelWithProjection.from_pretrained(basename(modelDir), { dtype: "fp32" });
    const cosines: number[] = [];
    for (const [i, sample] of images.entries()) {
      const image = await RawImage.fromBlob(new Blob([sample.bytes as Uint8Array<ArrayBuffer>]));
      const { image_embeds } = await vision(await processor(image));
      const item = decoded.value.items[i];
      if (item?.status !== "ok") throw new Error(`image ${i} failed: ${item?.status}`);
      cosines.push(cosineSimilarity(embeddingToFloat32(item.embedding), image_embeds.data as Float32Array));
    }
    console.log(
      `cosine to Transformers.js: min ${Math.min(...cosines).toFixed(5)}, mean ${(cosines.reduce((a, b) => a + b) / cosines.length).toFixed(5)}`,
    );
    expect(Math.min(...cosines)).toBeGreaterThanOrEqual(0.999);
  }, 120_000);
});
