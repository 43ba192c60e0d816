/**
 * Renders the tiny CLIP's training set with two worker threads and writes it as flat binary files for train.py:
 *   {name}.pixels.u8  N×56×56×3 (HWC: the serving pipeline's resize and crop, then the 4×4 pool; see sample.ts)
 *   {name}.labels.i32 N×4 (colour, shape, count, background)
 *   {name}.tokens.i32 N×K×L   {name}.claims.i32 N×K×2 (count claim, background claim)
 * plus prompts.tokens.i32 (the 32 zero-shot prompts) and meta.json (with the preprocessor config the pixels were made
 * with, which train.py writes into the exported model folder).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import {
  ALL_PAIRS,
  BACKGROUND_NAMES,
  COLOURS,
  type PairSet,
  SHAPES,
  zeroShotPrompt,
} from "../../../shapes-world/index.ts";
import { ClipTokenizer } from "../../../src/tokenizer/clip-tokenizer.ts";
import type { ClipVocabulary } from "../../../src/tokenizer/vocabulary.ts";
import { POOLED, TINY_CLIP_PREPROCESSOR, trainingPreprocessConfig } from "./sample.ts";
import type { WorkerJob, WorkerResult } from "./worker.ts";

export type SplitSpec = { name: string; seed: number; count: number; pairs: PairSet };
export type DatasetSpec = {
  dir: string;
  splits: SplitSpec[];
  captionsPerImage: number;
  contextLength: number;
  vocabulary: ClipVocabulary;
  /** The model's preprocessor_config.json; default the embedded model's (CLIP's standard one). */
  preprocessor?: unknown;
  chunk?: number;
};

function runWorker(job: WorkerJob): Promise<WorkerResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL("./worker.ts", import.meta.url), { workerData: job });
    worker.once("message", resolve);
    worker.once("error", reject);
    worker.once("exit", (code) => code !== 0 && reject(new Error(`dataset worker exited with ${code}`)));
  });
}

async function renderSplit(spec: DatasetSpec, split: SplitSpec, preprocessor: unknown): Promise<void> {
  const chunk = spec.chunk ?? 2000;
  const jobs: WorkerJob[] = [];
  for (let start = 0; start < split.count; start += chunk) {
    jobs.push({
      seed: split.seed,
      start,
      end: Math.min(split.count, start + chunk),
      pairs: split.pairs,
      captionsPerImage: spec.captionsPerImage,
      contextLength: spec.contextLength,
      vocabulary: spec.vocabulary,
      preprocessor,
    });
  }
  const results: WorkerResult[] = new Array(jobs.length);
  let next = 0;
  let done = 0;
  let truncated = 0;
  const started = performance.now();
  const lane = async () => {
    while (next < jobs.length) {
      const at = next++;
      const result = await runWorker(jobs[at] as WorkerJob);
      results[at] = result;
      truncated += result.truncated;
      done += (jobs[at] as WorkerJob).end - (jobs[at] as WorkerJob).start;
      const seconds = (performance.now() - started) / 1000;
      process.stdout.write(
        `\r${split.name}: ${done}/${split.count} (${(done / seconds).toFixed(0)} samples/s)   `,
      );
    }
  };
  await Promise.all(Array.from({ length: Math.min(availableParallelism(), 2) }, lane));
  process.stdout.write("\n");
  if (truncated > 0)
    console.warn(`${split.name}: ${truncated} captions were truncated to ${spec.contextLength} tokens`);
  const concat = <K extends keyof WorkerResult>(key: K) =>
    Buffer.concat(results.map((r) => Buffer.from((r[key] as Uint8Array).buffer)));
  writeFileSync(join(spec.dir, `${split.name}.pixels.u8`), concat("pixels"));
  writeFileSync(join(spec.dir, `${split.name}.labels.i32`), concat("labels"));
  writeFileSync(join(spec.dir, `${split.name}.tokens.i32`), concat("tokens"));
  writeFileSync(join(spec.dir, `${split.name}.claims.i32`), concat("claims"));
}

export async function makeDataset(spec: DatasetSpec): Promise<void> {
  const preprocessor = spec.preprocessor ?? TINY_CLIP_PREPROCESSOR;
  trainingPreprocessConfig(preprocessor); // a config the pool cannot take fails here, not in every worker
  mkdirSync(spec.dir, { recursive: true });
  for (const split of spec.splits) await renderSplit(spec, split, preprocessor);
  const tokenizer = new ClipTokenizer(spec.vocabulary);
  const prompts = tokenizer.tokenize(
    ALL_PAIRS.map((p) => zeroShotPrompt(p.colour, p.shape)),
    { contextLength: spec.contextLength },
  ).ids;
  writeFileSync(
    join(spec.dir, "prompts.tokens.i32"),
    Buffer.concat(prompts.map((p) => Buffer.from(p.buffer))),
  );
  const meta = {
    pooled: POOLED,
    preprocessor,
    captionsPerImage: spec.captionsPerImage,
    contextLength: spec.contextLength,
    vocabSize: spec.vocabulary.tokens.length,
    splits: spec.splits,
    colours: COLOURS,
    shapes: SHAPES,
    backgrounds: BACKGROUND_NAMES,
    pairs: ALL_PAIRS,
  };
  writeFileSync(join(spec.dir, "meta.json"), JSON.stringify(meta, null, 2));
}
