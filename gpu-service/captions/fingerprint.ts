/**
 * Fingerprints that tie a caption bank to the model that embedded it. A bank built with one text encoder and
 * searched with another's image embeddings answers confidently and wrongly, so both the builder and the service
 * compute these the same way and the service compares them at start-up.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import type { ClipVocabulary } from "../../src/tokenizer/index.ts";
import { loadClipVocabulary } from "../model/tokenizer-files.ts";

/**
 * sha256 of the vocabulary itself (token texts in id order, then merges in rank order), so the same vocabulary
 * hashes alike whether it came from vocab.json + merges.txt or tokenizer.json.
 *
 * @example await tokenizerSha256("models/tiny-clip") → "3f1c…" (64 hex digits)
 */
export async function tokenizerSha256(modelDir: string): Promise<string> {
  return vocabularySha256(await loadClipVocabulary(modelDir));
}

/** {@link tokenizerSha256} of an already loaded vocabulary. */
export function vocabularySha256(vocabulary: ClipVocabulary): string {
  const hash = createHash("sha256");
  hash.update(`tokens ${vocabulary.tokens.length}\n`);
  for (const token of vocabulary.tokens) hash.update(`${token}\n`);
  hash.update(`merges ${vocabulary.merges.length}\n`);
  for (const [left, right] of vocabulary.merges) hash.update(`${left} ${right}\n`);
  return hash.digest("hex");
}

/** sha256 of a file, streamed (text encoders run to hundreds of megabytes). @example await fileSha256("onnx/text_model.onnx") */
export async function fileSha256(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest("hex");
}
