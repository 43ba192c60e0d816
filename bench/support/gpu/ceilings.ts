/**
 * The two ceilings the service is measured against, each with nothing else running in the process: exact
 * preprocessing alone (decode + resize + crop + normalise, the service's own pipeline and worker pool), and the bare
 * ONNX Runtime session on tensors already preprocessed. Plus the text encoder's rate and the precision variants.
 */
import { cpuUsage } from "node:process";
import type { PreprocessConfig } from "../../../gpu-service/image/config.ts";
import { preprocessImageInto } from "../../../gpu-service/image/pipeline.ts";
import { createPreprocessPool } from "../../../gpu-service/image/pool.ts";
import { ClipModel, type Precision, type RuntimeOptions } from "../../../gpu-service/model/index.ts";
import { loadClipTokenizer } from "../../../gpu-service/model/tokenizer-files.ts";
import { cosineSimilarity } from "../../../src/vector/index.ts";
import { throughput } from "../throughput.ts";

/** Floats of one preprocessed image. */
const pixelsOf = (config: PreprocessConfig) => 3 * config.outputWidth * config.outputHeight;

/**
 * Exact preprocessing alone, images/s: on `threads` worker threads (0: the calling thread resamples, sharp decodes on
 * libuv's pool), with enough images in flight to keep them all busy, as the service's batcher does.
 */
export async function preprocessingRate(
  images: Uint8Array[],
  config: PreprocessConfig,
  threads: number,
  seconds: number,
): Promise<number> {
  const pool = threads > 0 ? createPreprocessPool({ threads }) : undefined;
  const perImage = pixelsOf(config);
  const out = new Float32Array(new SharedArrayBuffer(16 * perImage * 4));
  const into = pool?.preprocessImageInto ?? preprocessImageInto;
  const one = async (i: number) => {
    const r = await into(images[i % images.length] as Uint8Array, config, out, (i % 16) * perImage);
    if (!r.ok) throw new Error(r.message);
  };
  const inFlight = Math.max(4, 2 * threads);
  await throughput(Math.min(2, seconds), inFlight, 1, one); // JIT and libvips caches warm
  const rate = await throughput(seconds, inFlight, 1, one);
  await pool?.close();
  return rate;
}

/**
 * One image at a time on one thread: CPU-seconds per image, the figure capacity planning needs (images/s per core).
 * Measured as process CPU time, so libvips' and libuv's threads count too.
 */
export async function cpuMsPerImage(
  images: Uint8Array[],
  config: PreprocessConfig,
  rounds: number,
): Promise<number> {
  const out = new Float32Array(pixelsOf(config));
  const run = async () => {
    for (const bytes of images) {
      const r = await preprocessImageInto(bytes, config, out, 0);
      if (!r.ok) throw new Error(r.message);
    }
  };
  await run();
  const start = cpuUsage();
  for (let r = 0; r < rounds; r++) await run();
  const used = cpuUsage(start);
  return (used.user + used.system) / 1000 / (rounds * images.length);
}

export interface SessionChoice extends RuntimeOptions {
  precision?: Precision;
}

/** Loads the model once per runtime choice (sessions are several hundred MB at real size: released after use). */
export async function withModel<T>(
  dir: string,
  choice: SessionChoice,
  use: (model: ClipModel) => Promise<T>,
): Promise<T> {
  const model = await ClipModel.load(dir, { log: () => {}, ...choice });
  try {
    return await use(model);
  } finally {
    await model.release();
  }
}

/** The bare vision session at `batch`, on a tensor of real preprocessed images: the inference ceiling. */
export async function inferenceRate(
  model: ClipModel,
  pixels: Float32Array,
  batch: number,
  seconds: number,
): Promise<number> {
  const size = model.folder.imageSize;
  const input = batchOf(pixels, 3 * size * size, batch);
  await model.embedImages(input, batch);
  return throughput(seconds, 1, batch, () => model.embedImages(input, batch));
}

/** The text encoder at `batch` rows of label prompts ("a photo of a red circle.", …), tokenized by the folder's own tokenizer. */
export async function textRate(
  model: ClipModel,
  dir: string,
  batch: number,
  seconds: number,
): Promise<number> {
  const tokenizer = await loadClipTokenizer(dir);
  const words = ["red", "blue", "small", "circle", "dog", "street", "photo", "car", "tree", "house"];
  const prompts = Array.from(
    { length: batch },
    (_, r) => `a photo of a ${words[r % words.length]} ${words[(r * 7 + 3) % words.length]}.`,
  );
  const rows = tokenizer.tokenize(prompts, { contextLength: model.folder.contextLength });
  const length = Math.max(...rows.lengths);
  const ids = new BigInt64Array(batch * length);
  rows.ids.forEach((row, r) => {
    for (let i = 0; i < length; i++) ids[r * length + i] = BigInt(row[i] ?? 0);
  });
  const texts = { ids, count: batch, length, lengths: rows.lengths };
  await model.embedTexts(texts);
  return throughput(seconds, 1, batch, () => model.embedTexts(texts));
}

/** Mean and least cosine between two runs' embeddings of the same images (a precision against fp32). */
export function agreement(a: Float32Array, b: Float32Array, dim: number): { mean: number; min: number } {
  let sum = 0;
  let min = 1;
  const rows = a.length / dim;
  for (let r = 0; r < rows; r++) {
    const c = cosineSimilarity(a.subarray(r * dim, (r + 1) * dim), b.subarray(r * dim, (r + 1) * dim));
    sum += c;
    min = Math.min(min, c);
  }
  return { mean: sum / rows, min };
}

/** `batch` images' pixels cycled from `pixels` (which holds whole images). */
export function batchOf(pixels: Float32Array, perImage: number, batch: number): Float32Array {
  const have = pixels.length / perImage;
  const out = new Float32Array(batch * perImage);
  for (let i = 0; i < batch; i++)
    out.set(pixels.subarray((i % have) * perImage, ((i % have) + 1) * perImage), i * perImage);
  return out;
}

/** Real images preprocessed once, as the inference ceiling's input. */
export async function preprocessedPixels(
  images: Uint8Array[],
  config: PreprocessConfig,
): Promise<Float32Array> {
  const perImage = pixelsOf(config);
  const pixels = new Float32Array(images.length * perImage);
  for (const [i, bytes] of images.entries()) {
    const r = await preprocessImageInto(bytes, config, pixels, i * perImage);
    if (!r.ok) throw new Error(r.message);
  }
  return pixels;
}
