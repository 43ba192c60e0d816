import { type CompiledVocabulary, compileMergeOrderVocabulary } from "./compiled-vocabulary.ts";
import { type ClipVocabulary, VocabularyError, vocabularyFromMerges } from "./vocabulary.ts";

// Layout: "CLBP", version, id width in bytes (2 or 4), 2 reserved, merge count u32, longest token u32, then the
// merge pairs as little-endian ids. A 49,408-token vocabulary is 196 KB and compiles in a few milliseconds.
const MAGIC = [0x43, 0x4c, 0x42, 0x50];
const VERSION = 1;
const HEADER = 16;

/**
 * The compact build-time form of a vocabulary for the Worker bundle: its merges as pairs of ids. Refuses a vocabulary
 * whose ids do not follow from its merges, since the edge rebuilds ids from merge order alone.
 *
 * @example decodeCompactVocabulary(encodeCompactVocabulary(vocabulary)) // same ids as compileVocabulary(vocabulary)
 */
export function encodeCompactVocabulary(vocabulary: ClipVocabulary): Uint8Array {
  const expected = vocabularyFromMerges(vocabulary.merges).tokens;
  const mismatch = expected.findIndex((token, id) => vocabulary.tokens[id] !== token);
  if (mismatch !== -1 || expected.length !== vocabulary.tokens.length) {
    throw new VocabularyError(`token ids do not follow the merge order (first difference at id ${mismatch})`);
  }
  const ids = new Map(expected.map((token, id) => [token, id]));
  const width = expected.length <= 0xffff ? 2 : 4;
  const bytes = new Uint8Array(HEADER + vocabulary.merges.length * 2 * width);
  const view = new DataView(bytes.buffer);
  bytes.set(MAGIC, 0);
  view.setUint8(4, VERSION);
  view.setUint8(5, width);
  view.setUint32(8, vocabulary.merges.length, true);
  view.setUint32(
    12,
    expected.reduce((longest, token) => Math.max(longest, token.length), 0),
    true,
  );
  for (const [rank, [left, right]] of vocabulary.merges.entries()) {
    for (const [k, token] of [left, right].entries()) {
      const offset = HEADER + (2 * rank + k) * width;
      const id = ids.get(token) as number;
      if (width === 2) view.setUint16(offset, id, true);
      else view.setUint32(offset, id, true);
    }
  }
  return bytes;
}

/** Compiles the compact form straight into the tokenizer's tables. */
export function decodeCompactVocabulary(bytes: Uint8Array): CompiledVocabulary {
  if (bytes.length < HEADER || MAGIC.some((b, i) => bytes[i] !== b))
    throw new VocabularyError("not a compact vocabulary");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint8(4) !== VERSION)
    throw new VocabularyError(`compact vocabulary version ${view.getUint8(4)} is unknown`);
  const width = view.getUint8(5);
  const count = view.getUint32(8, true);
  if ((width !== 2 && width !== 4) || bytes.length !== HEADER + count * 2 * width) {
    throw new VocabularyError("compact vocabulary is truncated or malformed");
  }
  const pairs = new Uint32Array(count * 2);
  for (let i = 0; i < pairs.length; i++) {
    pairs[i] = width === 2 ? view.getUint16(HEADER + 2 * i, true) : view.getUint32(HEADER + 4 * i, true);
  }
  return compileMergeOrderVocabulary(pairs, view.getUint32(12, true));
}
