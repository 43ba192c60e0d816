/**
 * The ViT-B/32-shaped stand-in (`npm run model:standin`, git-ignored) through the serving code unchanged, and
 * through Transformers.js, which must agree with it, at fp32 and at each variant the build wrote (fp16, int8). CI
 * does not build the folder (1 GiB), so without it, or without a variant's files, these tests skip with a message,
 * never fail.
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
  Tensor,
} from "@huggingface/transformers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { preprocessImage } from "../../gpu-service/image/index.ts";
import { ClipModel } from "../../gpu-service/model/index.ts";
import { loadClipTokenizer } from "../../gpu-service/model/tokenizer-files.ts";
import { renderShapeSample } from "../../shapes-world/index.ts";
import { decodeResponse, embeddingToFloat32 } from "../../src/protocol/index.ts";
import { cosineSimilarity as cosine } from "../../src/vector/index.ts";
import { main as buildCaptionBank } from "../../tools/captions-build/main.ts";
import { startGpuProcess } from "../support/gpu-process.ts";
import { frame, signedPost } from "../support/gpu-service.ts";
import { embedTokenRows, idRows } from "../support/token-rows.ts";

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

function rows(data: Float32Array, dim: number): Float32Array[] {
  return Array.from({ length: data.length / dim }, (_, i) => data.slice(i * dim, (i + 1) * dim));
}

/**
 * The variants tools/standin/variants.py writes, by the names the service (MODEL_PRECISION) and Transformers.js
 * (`dtype`) ask for. The floors are the minima these inputs measured on 2026-12-02, less a margin: fp16 1.000000 to
 * fp32 (0.99999 centred), int8 0.99987 on images and 0.99936 on texts (0.9942 and 0.9967 centred). Transformers.js and
 * the service must agree with our runtime as at fp32 (measured 1.000000). Random weights: trained ones, with their
 * outlier activations, may lose more to int8 than these do.
 */
const VARIANTS = [
  { precision: "fp16", dtype: "fp16", suffix: "_fp16", floor: 0.9999, centredFloor: 0.9995 },
  { precision: "quantized", dtype: "q8", suffix: "_quantized", floor: 0.998, centredFloor: 0.98 },
] as const;

function mean(vectors: Float32Array[]): Float32Array {
  const sum = new Float32Array(vectors[0]?.length ?? 0);
  for (const v of vectors) for (const [k, x] of v.entries()) sum[k] = (sum[k] ?? 0) + x / vectors.length;
  return sum;
}

/**
 * Cosines of `variant` to `reference`, pair by pair, as they are and with fp32's mean removed from both. Random
 * weights give every image much the same embedding (two images ≈ 0.99 apart), so the plain cosine is flattered by
 * that shared direction; the centred one measures what tells inputs apart.
 */
function agreement(variant: Float32Array[], reference: Float32Array[]) {
  const centre = mean(reference);
  const centred = (v: Float32Array) => v.map((x, k) => x - (centre[k] ?? 0));
  return {
    plain: Math.min(...variant.map((v, i) => cosine(v, reference[i] as Float32Array))),
    centred: Math.min(...variant.map((v, i) => cosine(centred(v), centred(reference[i] as Float32Array)))),
  };
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
    const direct = await embedTokenRows(ours, idRows(inputs.input_ids as Tensor));
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

  for (const variant of VARIANTS) {
    const files = ["vision_model", "text_model"].map((n) => join(DIR, "onnx", `${n}${variant.suffix}.onnx`));
    const built = files.every((f) => existsSync(f));
    if (present && !built)
      console.warn(`skipping the stand-in's ${variant.precision} tests: ${files.join(", ")} missing`);

    describe.skipIf(!built)(`at ${variant.precision}`, () => {
      let model: ClipModel;
      let samples: Awaited<ReturnType<typeof renderShapeSample>>[];
      let pixels: Float32Array;
      let tokenRows: number[][];
      beforeAll(async () => {
        model = await ClipModel.load(DIR, { providers: ["cpu"], precision: variant.precision });
        samples = await Promise.all(
          [0.3, 1, 2, 0.5].map((megapixels, i) =>
            renderShapeSample(0x5a17, i, { pairs: "all", format: "jpeg", megapixels }),
          ),
        );
        pixels = new Float32Array(samples.length * 3 * 224 * 224);
        for (const [i, sample] of samples.entries()) {
          const r = await preprocessImage(sample.bytes, model.folder.preprocess);
          if (!r.ok) throw new Error(`sample ${i}: ${r.message}`);
          pixels.set(r.pixels, i * 3 * 224 * 224);
        }
        const tokenizer = await loadClipTokenizer(DIR);
        tokenRows = TEXTS.map((t) => tokenizer.encode(t));
      }, 120_000);
      afterAll(() => model?.release());

      it("loads its own files, float32 in and out as the service's loader checks", () => {
        expect(model.folder.precision).toBe(variant.precision);
        expect(model.folder.visionModelPath).toBe(files[0]);
        expect(model.folder.textModelPath).toBe(files[1]);
      });

      it("stays close to fp32 on images and texts, in what tells them apart too", async () => {
        const images = agreement(
          rows(await model.embedImages(pixels, samples.length), 512),
          rows(await ours.embedImages(pixels, samples.length), 512),
        );
        const texts = agreement(
          await embedTokenRows(model, tokenRows),
          await embedTokenRows(ours, tokenRows),
        );
        console.log(`${variant.precision} to fp32, minima: images ${fmt(images)}; texts ${fmt(texts)}`);
        for (const measured of [images, texts]) {
          expect(measured.plain).toBeGreaterThanOrEqual(variant.floor);
          expect(measured.centred).toBeGreaterThanOrEqual(variant.centredFloor);
        }
      });

      it(`is what Transformers.js loads as dtype "${variant.dtype}"`, async () => {
        const options = { dtype: variant.dtype, device: "cpu" } as const;
        const vision = await CLIPVisionModelWithProjection.from_pretrained(NAME, options);
        const text = await CLIPTextModelWithProjection.from_pretrained(NAME, options);
        const tokenizer = await AutoTokenizer.from_pretrained(NAME);
        const inputs = tokenizer(TEXTS, { padding: true, truncation: true });
        const { image_embeds } = await vision({
          pixel_values: new Tensor("float32", pixels, [samples.length, 3, 224, 224]),
        });
        const { text_embeds } = await text(inputs);
        const theirs = [
          ...rows((image_embeds as Tensor).data as Float32Array, 512),
          ...rows((text_embeds as Tensor).data as Float32Array, 512),
        ];
        const direct = [
          ...rows(await model.embedImages(pixels, samples.length), 512),
          ...(await embedTokenRows(model, tokenRows)),
        ];
        theirs.forEach((row, i) => {
          expect(cosine(row, direct[i] as Float32Array)).toBeGreaterThanOrEqual(0.999);
        });
        await Promise.all([vision.dispose(), text.dispose()]);
      }, 120_000);

      it(`is served by the GPU service with MODEL_PRECISION=${variant.precision}`, async () => {
        const gpu = await startGpuProcess({
          MODEL_DIR: DIR,
          MODEL_PRECISION: variant.precision,
          BATCH_SIZES: "1,4,8",
        });
        try {
          expect(gpu.output()).toContain(`clip-edge/standin-vit-b-32 (${variant.precision}) on [cpu]`);
          const served = async (body: Uint8Array, path: string) => {
            const response = await signedPost(`${gpu.url}${path}`, body);
            const decoded = decodeResponse(new Uint8Array(await response.arrayBuffer()));
            if (!decoded.ok) throw new Error(decoded.message);
            return decoded.value.items.map((item, i) => {
              if (item.status !== "ok") throw new Error(`${path} item ${i}: ${item.status}`);
              return embeddingToFloat32(item.embedding);
            });
          };
          const images = await served(
            frame({ kind: "images", dtype: "f32", images: samples.map((s) => s.bytes) }),
            "/v1/embed/images",
          );
          const texts = await served(
            frame({ kind: "texts", dtype: "f32", texts: tokenRows }),
            "/v1/embed/texts",
          );
          const direct = [
            ...rows(await model.embedImages(pixels, samples.length), 512),
            ...(await embedTokenRows(model, tokenRows)),
          ];
          [...images, ...texts].forEach((row, i) => {
            expect(cosine(row, direct[i] as Float32Array)).toBeGreaterThanOrEqual(0.999);
          });
        } finally {
          await gpu.stop();
        }
      }, 180_000);
    });
  }
});

function fmt(measured: { plain: number; centred: number }): string {
  return `${measured.plain.toFixed(6)} (centred ${measured.centred.toFixed(6)})`;
}
