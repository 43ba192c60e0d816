import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Precision } from "../../gpu-service/model/pull/index.ts";

/**
 * The embedded model as a Hub repo for test/support/model-hub.ts: a pull of it is a folder the GPU service really
 * loads. Its README and caption bank are there too, as files a pull must not fetch.
 */
export const TINY_CLIP_REPO = {
  id: "clip-edge/tiny-clip",
  dir: new URL("../../models/tiny-clip", import.meta.url).pathname,
} as const;

/** What a pull of an fp32 folder in the Xenova layout writes (beside its own `.pull/` bookkeeping), sorted. */
export const FP32_LAYOUT = [
  "config.json",
  "merges.txt",
  "onnx/text_model.onnx",
  "onnx/vision_model.onnx",
  "preprocessor_config.json",
  "special_tokens_map.json",
  "tokenizer.json",
  "tokenizer_config.json",
  "vocab.json",
] as const;

const CONFIG = {
  _name_or_path: "fake/tiny-clip",
  model_type: "clip",
  projection_dim: 8,
  logit_scale: Math.log(100),
  text_config: { max_position_embeddings: 77 },
  vision_config: { image_size: 32 },
};

const PREPROCESSOR = {
  do_resize: true,
  size: { shortest_edge: 32 },
  resample: 3,
  do_center_crop: true,
  crop_size: { height: 32, width: 32 },
  do_rescale: true,
  rescale_factor: 1 / 255,
  do_normalize: true,
  image_mean: [0.48145466, 0.4578275, 0.40821073],
  image_std: [0.26862954, 0.26130258, 0.27577711],
};

/**
 * A model repo in the Xenova CLIP layout, made of small stand-ins: valid config JSON (readModelFolder reads it),
 * arbitrary bytes everywhere else, and decoys (a merged model, int8 encoders, a README) a pull must not fetch.
 *
 * @example const dir = writeFakeClipRepo(tmpdir(), { precisions: ["fp32", "fp16"] })
 */
export function writeFakeClipRepo(
  parent: string,
  options: {
    precisions?: Precision[];
    encoderBytes?: number;
    modelType?: string;
    /** Fields merged into preprocessor_config.json, e.g. to make it unservable. */
    preprocessor?: Record<string, unknown>;
  } = {},
): string {
  const dir = mkdtempSync(join(parent, "fake-clip-repo-"));
  const suffix: Record<Precision, string> = { fp32: "", fp16: "_fp16", quantized: "_quantized" };
  const encoderBytes = options.encoderBytes ?? 300_000;
  const files: Record<string, string | Buffer> = {
    "config.json": JSON.stringify({ ...CONFIG, model_type: options.modelType ?? "clip" }, null, 2),
    "preprocessor_config.json": JSON.stringify({ ...PREPROCESSOR, ...options.preprocessor }, null, 2),
    "tokenizer.json": '{"model": {"type": "BPE"}, "note": "stand-in"}',
    "vocab.json": '{"a": 0, "b": 1}',
    "merges.txt": "#version: 0.2\na b\n",
    "tokenizer_config.json": '{"model_max_length": 77}',
    "special_tokens_map.json": '{"bos_token": "<|startoftext|>"}',
    "README.md": "# decoy\n",
    "onnx/model.onnx": pseudoRandomBytes("merged", 2 * encoderBytes),
    "onnx/text_model_int8.onnx": pseudoRandomBytes("int8", encoderBytes / 4),
  };
  for (const precision of options.precisions ?? ["fp32"]) {
    for (const encoder of ["text_model", "vision_model"]) {
      const path = `onnx/${encoder}${suffix[precision]}.onnx`;
      files[path] = pseudoRandomBytes(path, encoderBytes + (encoder === "vision_model" ? 12_345 : 0));
    }
  }
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

/** A repo that is some other model entirely (weights as safetensors, no ONNX). */
export function writeNotClipRepo(parent: string): string {
  const dir = mkdtempSync(join(parent, "fake-bert-repo-"));
  writeFileSync(join(dir, "config.json"), '{"model_type": "bert"}');
  writeFileSync(join(dir, "model.safetensors"), pseudoRandomBytes("bert", 10_000));
  return dir;
}

/** Deterministic bytes that do not compress or repeat, so an off-by-one in resuming shows up in the hash. */
export function pseudoRandomBytes(seed: string, length: number): Buffer {
  const out = Buffer.alloc(Math.floor(length));
  let block = createHash("sha256").update(seed).digest();
  for (let at = 0; at < out.length; at += block.length) {
    block.copy(out, at);
    block = createHash("sha256").update(block).digest();
  }
  return out;
}
