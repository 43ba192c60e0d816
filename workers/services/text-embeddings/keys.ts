/**
 * KV keys for cached embeddings (the schema is written down in workers/KV-SCHEMA.md). Every key names the model and
 * the vocabulary hash, so a new model or vocabulary never reads an old entry. The digests are SHA-256, computed
 * synchronously in JS (`sha256Base64url`): the same digest as `crypto.subtle`, without an asynchronous job per key.
 */
import { sha256Base64url, sha256Base64urlAfter } from "../../../src/crypto/sha256.ts";

const encoder = new TextEncoder();

/** `txt:v1:<model>:<vocab hash>:<sha-256 of the token ids, base64url>` — one text's embedding. */
export function textKey(modelId: string, vocabularyHash: string, ids: Int32Array): string {
  return `txt:v1:${modelId}:${vocabularyHash}:${sha256Base64url(new Uint8Array(ids.buffer, ids.byteOffset, ids.byteLength))}`;
}

/**
 * `lbl:v1:<model>:<vocab hash>:<sha-256 of the JSON [templates, label]>` — a label's template-ensembled embedding,
 * for cleaned templates and label. The templates' part of the JSON is made (and hashed) once for all of a request's
 * labels: `JSON.stringify([templates, label])` is `[`, the templates' JSON, `,`, the label's JSON, `]`, character for
 * character.
 *
 * @example const keyOf = labelKeys("m", "v", ["a photo of a {}."]); keyOf("dog") === labelKey("m", "v", ["a photo of a {}."], "dog")
 */
export function labelKeys(
  modelId: string,
  vocabularyHash: string,
  templates: readonly string[],
): (label: string) => string {
  const prefix = `lbl:v1:${modelId}:${vocabularyHash}:`;
  // The UTF-8 of the JSON is that of its two parts, cut between `,` and `"`; the templates' blocks are hashed once.
  const digestOf = sha256Base64urlAfter(encoder.encode(`[${JSON.stringify(templates)},`));
  return (label) => prefix + digestOf(encoder.encode(`${JSON.stringify(label)}]`));
}

/** One label's key; see {@link labelKeys}. */
export function labelKey(
  modelId: string,
  vocabularyHash: string,
  templates: readonly string[],
  label: string,
): string {
  return labelKeys(modelId, vocabularyHash, templates)(label);
}

/**
 * A text's key inside the isolate (LRU, computations in flight): its token ids as the characters of a string, one
 * UTF-16 unit per id (CLIP's vocabulary, 49,408, fits; a larger id takes a second unit after an escape). Exact, so
 * two texts share a key only when they tokenize alike; never stored, so its length does not matter. The `#` keeps it
 * apart from label keys (`lbl:…`) in the shared LRU.
 *
 * @example idsKey(Int32Array.of(49406, 320, 49407)) // "#\uc11e\u0140\uc11f"
 */
export function idsKey(ids: Int32Array): string {
  let escapes = false;
  for (let i = 0; i < ids.length; i++) escapes ||= (ids[i] as number) >= 0xffff;
  // All ids below the escape, as CLIP's always are: one native call rather than a concatenation per id.
  if (!escapes) return `#${String.fromCharCode.apply(null, ids as unknown as number[])}`;
  let key = "#";
  for (const id of ids)
    key += id < 0xffff ? String.fromCharCode(id) : `\uffff${String.fromCharCode(id >>> 16, id & 0xffff)}`;
  return key;
}
