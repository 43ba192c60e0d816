/**
 * The ViT-B/32-shaped stand-in (`npm run model:standin`, git-ignored) through the serving code unchanged, and
 * through Transformers.js, which must agree with it. CI does not build the folder (580 MiB), so without it these
 * tests skip with a message, never fail.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  AutoProcessor,
  AutoTokenizer,
  CLIPTextModelWithProjection,
  CLIPVisionModelWithProjection,
  env,
  RawImage,
  type Tensor,
} from "@huggingface/transformers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClipModel } from "../../gpu-service/model/index.ts";
import { loadClipTokenizer } from "../../gpu-service/model/tokenizer-files.ts";
import { renderShapeSample } from "../../shapes-world/index.ts";
import { cosineSimilarity as cosine } from "../../src/vector/index.ts";
import { main as buildCaptionBank } from "../../tools/captions-build/main.ts";

const MODELS = join(import.meta.dirname, "../../models");
const NAME = "standin-vit-b-32";
const DIR = join(MODELS, NAME);
const present =
  existsSync(join(DIR, "onnx/vision_model.onnx")) && existsSync(join(DIR, "onnx/text_model.onnx"));
if (!present)
  console.warn(`skipping the stand-in tests: ${DIR} missing (build it with npm run model:standin)`);

const TEXTS = [
  "a photo of a cat",
  "a diagram of ViT-B/32",
  "Ein Foto einer Katze",
  "3 cats & 2 dogs",
  "naïve café",
  "🐱 emoji",
  "it's a 24-hour   diner",
];

function idRows(tensor: Tensor): number[][] {
  const [n, length] = tensor.dims as [number, number];
  const data = Array.from(tensor.data as BigInt64Array, Number);
  return Array.from({ length: n }, (_, i) => data.slice(i * length, (i + 1) * length));
}

function rows(data: Float32Array, dim: number): Float32Array[] {
  return Array.from({ length: data.length / dim }, (_, i) => data.slice(i * dim, (i + 1) * dim));
}

describe.skipIf(!present)("the ViT-B/32 stand-in", () => {
  let ours: ClipModel;
  beforeAll(async () => {
    env.allowRemoteModels = false;
    env.allowLocalModels = true;
    env.localModelPath = `${MODELS}/`;
    ours = await ClipModel.load(DIR, { providers: ["cpu"] });
  }, 120_000);
  afterAll(() => ours?.release());

  it("loads in the GPU tier's model runtime at real size", () => {
    // Not the real model's id: the edge keys its text cache by it.
    expect(ours.folder.id).toBe("clip-edge/standin-vit-b-32");
    expect(ours.embeddingDim).toBe(512);
    expect(ours.folder.imageSize).toBe(224);
    expect(ours.folder.contextLength).toBe(77);
    expect(ours.folder.logitScale).toBeCloseTo(100, 3);
    const vocab = JSON.parse(readFileSync(join(DIR, "vocab.json"), "utf8"));
    expect(Object.keys(vocab)).toHaveLength(49_408);
  });

  it("tokenizes as Transformers.js does, id for id", async () => {
    const theirs = await AutoTokenizer.from_pretrained(NAME);
    const mine = await loadClipTokenizer(DIR);
    for (const text of TEXTS)
      expect(idRows(theirs(text).input_ids as Tensor)[0], text).toEqual(mine.encode(text));
  });

  it("gives Transformers.js's text embeddings, and different texts differ", async () => {
    const tokenizer = await AutoTokenizer.from_pretrained(NAME);
    const model = await CLIPTextModelWithProjection.from_pretrained(NAME, { dtype: "fp32", device: "cpu" });
    const inputs = tokenizer(TEXTS, { padding: true, truncation: true });
    const { text_embeds } = await model(inputs);
    const ids = idRows(inputs.input_ids as Tensor);
    const length = ids[0]?.length ?? 0;
    const flat = await ours.embedTexts({
      ids: BigInt64Array.from(ids.flat(), BigInt),
      count: ids.length,
      length,
      lengths: ids.map(() => length),
    });
    const direct = rows(flat, 512);
    rows((text_embeds as Tensor).data as Float32Array, 512).forEach((row, i) => {
      expect(cosine(row, direct[i] as Float32Array), TEXTS[i]).toBeGreaterThanOrEqual(0.999);
    });
    // Random weights still separate inputs: a degenerate stand-in would map every text to one direction.
    expect(cosine(direct[0] as Float32Array, direct[1] as Float32Array)).toBeLessThan(0.99);
    await model.dispose();
  }, 120_000);

  it("gives Transformers.js's image embeddings on its processor's pixels, and different images differ", async () => {
    const processor = await AutoProcessor.from_pretrained(NAME);
    const model = await CLIPVisionModelWithProjection.from_pretrained(NAME, { dtype: "fp32", device: "cpu" });
    const samples = await Promise.all([0, 1, 2].map((i) => renderShapeSample(4244, i, { pairs: "all" })));
    const images = await Promise.all(
      samples.map((s) => RawImage.fromBlob(new Blob([s.bytes as Uint8Array<ArrayBuffer>], { type: s.mime }))),
    );
    const { pixel_values } = await processor(images);
    const { image_embeds } = await model({ pixel_values });
    const direct = rows(await ours.embedImages((pixel_values as Tensor).data as Float32Array, 3), 512);
    rows((image_embeds as Tensor).data as Float32Array, 512).forEach((row, i) => {
      expect(cosine(row, direct[i] as Float32Array)).toBeGreaterThanOrEqual(0.999);
    });
    expect(cosine(direct[0] as Float32Array, direct[1] as Float32Array)).toBeLessThan(0.999);
    await model.dispose();
  }, 120_000);

  it("builds a caption bank", async () => {
    const work = mkdtempSync(join(tmpdir(), "standin-bank-"));
    try {
      const corpus = join(work, "captions.txt");
      writeFileSync(corpus, `${TEXTS.join("\n")}\n`);
      const quiet = { write: () => true } as never;
      const code = await buildCaptionBank(["--corpus", corpus, "--model", DIR, "--out", join(work, "bank")], {
        stdout: quiet,
        stderr: quiet,
      });
      expect(code).toBe(0);
      const manifest = JSON.parse(readFileSync(join(work, "bank/manifest.json"), "utf8"));
      expect(JSON.stringify(manifest)).toContain("512");
      expect(readFileSync(join(work, "bank/texts.txt"), "utf8").trim().split("\n")).toHaveLength(
        TEXTS.length,
      );
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }, 120_000);
});
