import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { captionCorpus, renderShapeSample } from "../../../shapes-world/index.ts";
import type { GpuCaptionsReply } from "../../../src/protocol/index.ts";
import { decodeResponse, embeddingToFloat32 } from "../../../src/protocol/index.ts";
import { dot, float16ToFloat32, topK } from "../../../src/vector/index.ts";
import {
  frame,
  modelPresent,
  signedPost,
  startTestService,
  TEST_MODEL_DIR,
} from "../../../test/support/gpu-service.ts";
import { main as buildBank } from "../../../tools/captions-build/main.ts";
import type { RunningService } from "../../service.ts";

if (!modelPresent())
  console.warn(
    `/v1/captions real-model test skipped: ${TEST_MODEL_DIR}/onnx has no encoders (train or pull the model)`,
  );

/** Renders from a seed no training run uses, of every colour–shape pair, held-out ones included. */
const SEED = 4242;
const SAMPLES = 16;

describe.skipIf(!modelPresent())(`POST /v1/captions with the real model (${TEST_MODEL_DIR})`, () => {
  let root: string;
  let service: RunningService;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "captions-real-"));
    await writeFile(join(root, "shapes.txt"), captionCorpus());
    const quiet = { stdout: { write: () => true }, stderr: { write: () => true } };
    const built = await buildBank(
      ["--corpus", join(root, "shapes.txt"), "--model", TEST_MODEL_DIR, "--out", join(root, "bank")],
      quiet,
    );
    expect(built).toBe(0);
    service = await startTestService({ CAPTION_BANK: join(root, "bank") });
  }, 300_000);
  afterAll(async () => {
    await service?.shutdown();
    await rm(root, { recursive: true, force: true });
  });

  // How often the top caption is right is the model's quality, measured by test/e2e/accuracy.test.ts on
  // the same caption bank; here the route must give exactly the bank's nearest captions of the image's embedding.
  it("captions shapes-world photos with the bank's nearest captions of their embeddings", async () => {
    const samples = await Promise.all(
      Array.from({ length: SAMPLES }, (_, i) => renderShapeSample(SEED, i, { pairs: "all", format: "jpeg" })),
    );
    const images = samples.map((s) => s.bytes);
    const response = await signedPost(
      `${service.url}/v1/captions?top_k=3`,
      frame({ kind: "images", dtype: "f32", images }),
    );
    expect(response.status).toBe(200);
    const { results, model } = (await response.json()) as GpuCaptionsReply;
    expect(model).toBe(service.deps.model.folder.id);

    const embedded = await signedPost(
      `${service.url}/v1/embed/images`,
      frame({ kind: "images", dtype: "f32", images }),
    );
    const decoded = decodeResponse(new Uint8Array(await embedded.arrayBuffer()));
    if (!decoded.ok) throw new Error(decoded.message);
    const bytes = await readFile(join(root, "bank", "embeddings.f16"));
    const bank = float16ToFloat32(new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2));
    const texts = captionCorpus().trimEnd().split("\n");
    const dim = bank.length / texts.length;
    let right = 0;
    for (const [i, result] of results.entries()) {
      const item = decoded.value.items[i];
      if (result.status !== "ok" || item?.status !== "ok") throw new Error(`image ${i}: ${result.status}`);
      const image = embeddingToFloat32(item.embedding);
      const scores = texts.map((_, row) => dot(image, bank.subarray(row * dim, (row + 1) * dim)));
      const best = topK(scores, 3);
      expect(result.captions.map((c) => c.text)).toEqual(best.map((b) => texts[b]));
      for (const [j, caption] of result.captions.entries())
        expect(caption.score).toBeCloseTo(scores[best[j] as number] as number, 4);
      const sample = samples[i];
      const top = result.captions[0]?.text ?? "";
      if (sample && top.includes(sample.colour) && top.includes(sample.shape)) right++;
    }
    console.log(`/v1/captions: the top caption names colour and shape for ${right} of ${SAMPLES} renders`);
  });
});
