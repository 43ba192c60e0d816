import type { Precision } from "../model-folder.ts";
import { failure, type PullError } from "./outcome.ts";

export type { Precision };
export const PRECISIONS: readonly Precision[] = ["fp32", "fp16", "quantized"];

/** What the Hub's tree listing tells us about one file; hashes are whatever the Hub provides. */
export interface RepoFile {
  path: string;
  size: number;
  /** sha256 of the content, from the LFS pointer (large files only). */
  sha256?: string;
  /** Git blob id, sha1 over `blob <size>\0<content>`; only describes the content for non-LFS files. */
  gitBlobId?: string;
}

const ENCODER_SUFFIX: Record<Precision, string> = { fp32: "", fp16: "_fp16", quantized: "_quantized" };

/** The encoders of one precision, as ../model-folder.ts looks for them. */
export function encoderPaths(precision: Precision): [string, string] {
  const suffix = ENCODER_SUFFIX[precision];
  return [`onnx/text_model${suffix}.onnx`, `onnx/vision_model${suffix}.onnx`];
}

const REQUIRED_CONFIG = ["config.json", "preprocessor_config.json"];
const OPTIONAL_TOKENIZER = [
  "tokenizer.json",
  "vocab.json",
  "merges.txt",
  "tokenizer_config.json",
  "special_tokens_map.json",
];

/**
 * Picks the files a CLIP model folder needs for one precision out of a repo listing: the two config files, the
 * tokenizer files that exist, and both encoders. Xenova's repos hold a dozen other ONNX variants (merged model,
 * int8, q4, bnb4...) worth gigabytes we would never load, hence a whitelist rather than a snapshot.
 *
 * A missing precision is an error rather than a silent fp32 download: the user asked for a size/speed trade-off
 * and fp32 is two to four times larger. The message lists the precisions the repo does have.
 *
 * @example planFiles("Xenova/clip-vit-base-patch32", listing, "fp16") // → config, tokenizer and *_fp16.onnx files
 */
export function planFiles(
  repo: string,
  listing: readonly RepoFile[],
  precision: Precision,
): { ok: true; files: RepoFile[] } | { ok: false; error: PullError } {
  const byPath = new Map(listing.map((file) => [file.path, file]));
  const available = PRECISIONS.filter((p) => encoderPaths(p).every((path) => byPath.has(path)));
  const layoutHint = "expected the Xenova/transformers.js layout, e.g. Xenova/clip-vit-base-patch32";

  if (available.length === 0) {
    const missing = encoderPaths("fp32").filter((path) => !byPath.has(path));
    return notClip(repo, `it has no ${missing.join(" or ")} (${layoutHint})`);
  }
  const missingConfig = REQUIRED_CONFIG.filter((path) => !byPath.has(path));
  if (missingConfig.length > 0)
    return notClip(repo, `it has no ${missingConfig.join(" or ")} (${layoutHint})`);
  // The tokenizer loader (src/tokenizer) reads vocab.json + merges.txt, else tokenizer.json.
  if (!byPath.has("tokenizer.json") && !(byPath.has("vocab.json") && byPath.has("merges.txt")))
    return notClip(repo, "it has no tokenizer (tokenizer.json, or vocab.json + merges.txt)");
  if (!available.includes(precision)) {
    return failure(
      "precision-missing",
      `${repo} has no ${precision} encoders (${encoderPaths(precision).join(", ")}); ` +
        `it has ${available.join(", ")}: pass --precision ${available[0]}`,
    );
  }

  const wanted = [...REQUIRED_CONFIG, ...OPTIONAL_TOKENIZER, ...encoderPaths(precision)];
  const files = wanted.flatMap((path) => byPath.get(path) ?? []);
  return { ok: true, files };
}

function notClip(repo: string, why: string): { ok: false; error: PullError } {
  return failure("not-clip", `${repo} is not a CLIP ONNX export: ${why}`);
}
