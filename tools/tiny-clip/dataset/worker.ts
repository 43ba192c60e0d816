/**
 * Dataset worker: renders a range of shapes-world samples, preprocesses them with the serving pipeline (sample.ts)
 * and returns pooled pixels, labels and tokenised captions as transferable typed arrays.
 */
import { parentPort, workerData } from "node:worker_threads";
import sharp from "sharp";
import {
  BACKGROUND_NAMES,
  COLOURS,
  moreCaptions,
  type PairSet,
  SHAPES,
} from "../../../shapes-world/index.ts";
import { ClipTokenizer } from "../../../src/tokenizer/clip-tokenizer.ts";
import type { ClipVocabulary } from "../../../src/tokenizer/vocabulary.ts";
import { POOLED, renderTrainingSample, trainingPreprocessConfig } from "./sample.ts";

export type WorkerJob = {
  seed: number;
  start: number;
  end: number;
  pairs: PairSet;
  captionsPerImage: number;
  contextLength: number;
  vocabulary: ClipVocabulary;
  /** The model's preprocessor_config.json (raw JSON: it crosses the thread boundary). */
  preprocessor: unknown;
};

export type WorkerResult = {
  pixels: Uint8Array;
  /** Per image: colour, shape, count, background name index. */
  labels: Int32Array;
  /** Per image and caption: token ids. */
  tokens: Int32Array;
  /** Per image and caption: count claim, background claim (−1: none). */
  claims: Int32Array;
  truncated: number;
};

async function run(job: WorkerJob): Promise<WorkerResult> {
  const n = job.end - job.start;
  const k = job.captionsPerImage;
  const tokenizer = new ClipTokenizer(job.vocabulary);
  const config = trainingPreprocessConfig(job.preprocessor);
  const pixels = new Uint8Array(n * POOLED * POOLED * 3);
  const labels = new Int32Array(n * 4);
  const tokens = new Int32Array(n * k * job.contextLength);
  const claims = new Int32Array(n * k * 2);
  let truncated = 0;
  for (let i = 0; i < n; i++) {
    const index = job.start + i;
    const slot = pixels.subarray(i * POOLED * POOLED * 3, (i + 1) * POOLED * POOLED * 3);
    const { scene, caption } = await renderTrainingSample(job.seed, index, job.pairs, config, slot);
    labels.set(
      [
        COLOURS.indexOf(scene.colour),
        SHAPES.indexOf(scene.shape),
        scene.count,
        BACKGROUND_NAMES.indexOf(scene.background.name),
      ],
      i * 4,
    );
    const captions = [caption, ...moreCaptions(job.seed, index, scene, k - 1)];
    const encoded = tokenizer.tokenize(
      captions.map((c) => c.text),
      { contextLength: job.contextLength },
    );
    captions.forEach((c, j) => {
      if (encoded.truncated[j]) truncated++;
      tokens.set(encoded.ids[j] as Int32Array, (i * k + j) * job.contextLength);
      claims.set(
        [c.countClaim, c.backgroundClaim === null ? -1 : BACKGROUND_NAMES.indexOf(c.backgroundClaim)],
        (i * k + j) * 2,
      );
    });
  }
  return { pixels, labels, tokens, claims, truncated };
}

if (parentPort) {
  // One libvips thread per worker: the workers already use every core, and more threads only contend.
  sharp.concurrency(1);
  const port = parentPort;
  const result = await run(workerData as WorkerJob);
  port.postMessage(result, [
    result.pixels.buffer,
    result.labels.buffer,
    result.tokens.buffer,
    result.claims.buffer,
  ] as ArrayBuffer[]);
}
