/**
 * The training set is made with the serving pipeline: for the same rendered image, the pixels the dataset stores are
 * the pixels the GPU tier feeds the model, pooled as the exported graph pools them.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readPreprocessConfig } from "../../../gpu-service/image/config.ts";
import { chwToRgb } from "../../../gpu-service/image/normalize.ts";
import { preprocessImage } from "../../../gpu-service/image/pipeline.ts";
import { COLOURS, renderSample, SHAPES } from "../../../shapes-world/index.ts";
import { testVocabulary } from "../../../test/support/test-vocabulary.ts";
import { makeDataset } from "./make-dataset.ts";
import { POOLED, TINY_CLIP_PREPROCESSOR, TRAINING_SHORT_SIDE, trainingPreprocessConfig } from "./sample.ts";

const MODEL_DIR = join(import.meta.dirname, "../../../models/tiny-clip");
const SEED = 0xda7a;
const COUNT = 8;
const PIXELS = POOLED * POOLED * 3;

/** The 4×4 block means of an HWC image, rounded half up: written out here, not the dataset's own pool. */
function blockMeans(rgb: Uint8Array, side: number): Uint8Array {
  const out = new Uint8Array((side / 4) * (side / 4) * 3);
  for (let i = 0; i < out.length; i++) {
    const c = i % 3;
    const x = Math.floor(i / 3) % (side / 4);
    const y = Math.floor(i / 3 / (side / 4));
    let sum = 0;
    for (let dy = 0; dy < 4; dy++)
      for (let dx = 0; dx < 4; dx++) sum += rgb[((y * 4 + dy) * side + x * 4 + dx) * 3 + c] as number;
    out[i] = Math.round(sum / 16);
  }
  return out;
}

describe("the tiny CLIP's dataset", () => {
  let dir = "";
  let pixels: Uint8Array;
  let labels: Int32Array;
  let meta: { preprocessor: unknown; pooled: number };
  // What the GPU tier serves the embedded model with: its own folder's config.
  const served = async () =>
    readPreprocessConfig(JSON.parse(await readFile(join(MODEL_DIR, "preprocessor_config.json"), "utf8")));

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "tiny-clip-dataset-"));
    // Two chunks, so both worker threads run: the test covers the writer as model:train runs it.
    await makeDataset({
      dir,
      splits: [{ name: "train", seed: SEED, count: COUNT, pairs: "seen" }],
      captionsPerImage: 2,
      contextLength: 77,
      vocabulary: testVocabulary(),
      chunk: COUNT / 2,
    });
    const bytes = await readFile(join(dir, "train.pixels.u8"));
    pixels = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const labelBytes = await readFile(join(dir, "train.labels.i32"));
    labels = new Int32Array(labelBytes.buffer, labelBytes.byteOffset, labelBytes.byteLength / 4);
    meta = JSON.parse(await readFile(join(dir, "meta.json"), "utf8"));
  }, 120_000);

  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("is preprocessed with the config the embedded model is served with, and says so in meta.json", async () => {
    expect(TINY_CLIP_PREPROCESSOR).toEqual(
      JSON.parse(await readFile(join(MODEL_DIR, "preprocessor_config.json"), "utf8")),
    );
    expect(meta.preprocessor).toEqual(TINY_CLIP_PREPROCESSOR);
    expect(meta.pooled).toBe(POOLED);
    expect(pixels.length).toBe(COUNT * PIXELS);
  });

  it("stores, for each render, the served pixels pooled 4×4 — byte for byte", async () => {
    const config = await served();
    const side = config.outputWidth;
    let differing = 0;
    for (let i = 0; i < COUNT; i++) {
      const { scene, bytes } = await renderSample(SEED, i, { pairs: "seen", shortSide: TRAINING_SHORT_SIDE });
      expect([...labels.subarray(i * 4, i * 4 + 2)]).toEqual([
        COLOURS.indexOf(scene.colour),
        SHAPES.indexOf(scene.shape),
      ]);
      const r = await preprocessImage(bytes, config);
      if (!r.ok) throw new Error(`${r.code}: ${r.message}`);
      const expected = blockMeans(chwToRgb(r.pixels, side, config.outputHeight, config), side);
      const stored = pixels.subarray(i * PIXELS, (i + 1) * PIXELS);
      for (let j = 0; j < PIXELS; j++) if (stored[j] !== expected[j]) differing++;
    }
    expect(differing).toBe(0);
  });

  it("normalises, in training, to what the exported graph computes from the served tensor (within the pool's rounding)", async () => {
    const config = await served();
    const { mean, std } = config.normalize ?? { mean: [0, 0, 0], std: [1, 1, 1] };
    const side = config.outputWidth;
    const plane = side * side;
    let worst = 0;
    for (let i = 0; i < COUNT; i++) {
      const { bytes } = await renderSample(SEED, i, { pairs: "seen", shortSide: TRAINING_SHORT_SIDE });
      const r = await preprocessImage(bytes, config);
      if (!r.ok) throw new Error(r.message);
      for (let y = 0; y < POOLED; y++) {
        for (let x = 0; x < POOLED; x++) {
          for (let c = 0; c < 3; c++) {
            // model.py's VisionExport: avg_pool2d(pixel_values, 4) on the normalised tensor.
            let sum = 0;
            for (let dy = 0; dy < 4; dy++)
              for (let dx = 0; dx < 4; dx++)
                sum += r.pixels[c * plane + (y * 4 + dy) * side + x * 4 + dx] as number;
            // train.py's normalise(): (u8 / 255 - mean) / std.
            const stored = pixels[i * PIXELS + (y * POOLED + x) * 3 + c] as number;
            const trained = (stored / 255 - (mean[c] as number)) / (std[c] as number);
            worst = Math.max(worst, Math.abs(trained - sum / 16));
          }
        }
      }
    }
    // Half a grey level of the pool's rounding, in normalised units, and float32 noise.
    expect(worst).toBeLessThanOrEqual(0.5 / 255 / Math.min(...std) + 1e-5);
  });

  it("refuses a config the 4×4 pool cannot take", () => {
    expect(() => trainingPreprocessConfig({ ...TINY_CLIP_PREPROCESSOR, crop_size: 256 })).toThrow(/224×224/);
  });
});
