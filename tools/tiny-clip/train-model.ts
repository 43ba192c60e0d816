/**
 * `npm run model:train`: the whole tiny CLIP pipeline within a 30-minute budget on two cores.
 *   1. learn the BPE vocabulary and write the tokenizer files into the model folder;
 *   2. render the training set with two worker threads, every image through the GPU tier's own preprocessing
 *      (gpu-service/image) and the 4×4 pool;
 *   3. train and export with Debian's Python (torch), for whatever time remains.
 *
 * Usage: node tools/tiny-clip/train-model.ts [--out models/tiny-clip] [--data DIR] [--images 40000] [--budget 30]
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { captionCorpus } from "../../shapes-world/index.ts";
import { writeEdgeModel } from "../build-edge-model.ts";
import { main as buildCaptionBank } from "../captions-build/main.ts";
import { trainVocabulary, writeTokenizerFiles } from "./bpe-train.ts";
import { makeDataset } from "./dataset/make-dataset.ts";
import { TINY_CLIP_PREPROCESSOR } from "./dataset/sample.ts";

/** Image seeds: training and validation never share one, and the tests use others again (see test/model). */
export const TRAIN_SEED = 11;
export const VALIDATION_SEED = 12;
export const CONTEXT_LENGTH = 24;
const PYTHON = "/usr/bin/python3";
const APT_LINE = "apt-get install -y python3-torch python3-onnx python3-numpy libopenblas0-pthread";

const { values } = parseArgs({
  options: {
    out: { type: "string", default: "models/tiny-clip" },
    data: { type: "string", default: join(tmpdir(), "tiny-clip-data") },
    images: { type: "string", default: "40000" },
    budget: { type: "string", default: "30" },
    "reuse-data": { type: "boolean", default: false },
  },
});

const started = performance.now();
const minutesSoFar = () => (performance.now() - started) / 60_000;

const check = spawnSync(PYTHON, ["-c", "import torch, onnx, numpy"], { stdio: "inherit" });
if (check.status !== 0) {
  console.error(`model:train needs Debian's Python with torch and onnx: ${APT_LINE}`);
  process.exit(1);
}

const { vocabulary } = trainVocabulary(4096);
mkdirSync(join(values.out, "onnx"), { recursive: true });
writeTokenizerFiles(values.out, vocabulary);
console.log(
  `vocabulary: ${vocabulary.tokens.length} tokens (${vocabulary.merges.length} merges) → ${values.out}`,
);

/** Data made by an earlier version (another preprocessing, or none recorded) is rendered again, never reused. */
function reusable(dir: string): boolean {
  const file = join(dir, "meta.json");
  if (!existsSync(file)) return false;
  const made = JSON.parse(readFileSync(file, "utf8")).preprocessor;
  return JSON.stringify(made) === JSON.stringify(TINY_CLIP_PREPROCESSOR);
}

if (!(values["reuse-data"] && reusable(values.data))) {
  await makeDataset({
    dir: values.data,
    splits: [
      { name: "train", seed: TRAIN_SEED, count: Number(values.images), pairs: "seen" },
      { name: "val", seed: VALIDATION_SEED, count: 640, pairs: "all" },
    ],
    captionsPerImage: 4,
    contextLength: CONTEXT_LENGTH,
    vocabulary,
    preprocessor: TINY_CLIP_PREPROCESSOR,
  });
}
console.log(`data ready after ${minutesSoFar().toFixed(1)} min`);

// Whatever is left of the budget, less two minutes for start-up, the final evaluation and the ONNX export.
const minutes = Math.max(3, Number(values.budget) - minutesSoFar() - 2);
const train = spawnSync(
  PYTHON,
  [
    join(import.meta.dirname, "train.py"),
    "--data",
    values.data,
    "--out",
    values.out,
    "--minutes",
    minutes.toFixed(2),
  ],
  {
    stdio: "inherit",
  },
);
if (train.status !== 0) process.exit(train.status ?? 1);
const report = JSON.parse(readFileSync(join(values.data, "train-report.json"), "utf8"));
console.log(`model:train done in ${minutesSoFar().toFixed(1)} min: ${JSON.stringify(report)}`);

// The embedded model ships with its caption bank and the edge's bundled description; both depend on the weights
// just exported, so they are rebuilt here and can never go stale.
const corpusFile = join(values.data, "shapes-captions.txt");
writeFileSync(corpusFile, captionCorpus());
const bank = await buildCaptionBank(["--corpus", corpusFile, "--model", values.out], process);
if (bank !== 0) process.exit(bank);
if (resolve(values.out) === resolve("models/tiny-clip")) await writeEdgeModel(values.out);
