import { decodeBase64, encodeBase64 } from "../../../src/encoding/base64.ts";
import {
  float32ToFloat16,
  normalizeInPlace,
  roundToFloat16,
  widenToUnit,
} from "../../../src/vector/index.ts";

/** A cached embedding and whether its text (or any of a label's prompts) was cut to the context length. */
export interface CachedText {
  embedding: Float32Array;
  truncated: boolean;
}

// "h1:" (or "h1t:" when the text was truncated) + base64 of little-endian float16 values. KV's bulk get returns
// text only, hence base64; float16 halves the size (a 512-d embedding is 1.4 KB) at a cosine error below 1e-3, which
// workers/KV-SCHEMA.md documents and a test checks.
const PREFIX = "h1:";
const TRUNCATED_PREFIX = "h1t:";
let scratch = new Uint16Array(512);

/** @example decodeEmbedding(encodeEmbedding({ embedding: v, truncated: false }), v.length)?.embedding ≈ v */
export function encodeEmbedding({ embedding, truncated }: CachedText): string {
  // The halves only live until they are base64: one buffer serves every call (encoding never awaits).
  if (scratch.length < embedding.length) scratch = new Uint16Array(embedding.length);
  const halves = float32ToFloat16(embedding, scratch.subarray(0, embedding.length));
  return (
    (truncated ? TRUNCATED_PREFIX : PREFIX) +
    encodeBase64(new Uint8Array(halves.buffer, halves.byteOffset, halves.byteLength))
  );
}

/** The cached value, or undefined for one that is not a well-formed embedding of `dim` values (treated as a miss). */
export function decodeEmbedding(value: string | null | undefined, dim: number): CachedText | undefined {
  const truncated = value?.startsWith(TRUNCATED_PREFIX) ?? false;
  if (!truncated && !value?.startsWith(PREFIX)) return undefined;
  const bytes = decodeBase64((value as string).slice(truncated ? TRUNCATED_PREFIX.length : PREFIX.length));
  if (!bytes || bytes.length !== dim * 2) return undefined;
  const halves = new Uint16Array(dim);
  new Uint8Array(halves.buffer).set(bytes);
  return { embedding: fromHalves(halves), truncated };
}

/**
 * The value served for float16 bits (the GPU tier's answer, a KV entry): widened and renormalised — what
 * {@link asStored} gives for them, since rounding a float16 value to float16 changes nothing, without the rounding.
 *
 * @example fromHalves(Uint16Array.of(0x3c00, 0x3c00)) // Float32Array [0.7071067690849304, 0.7071067690849304]
 */
export function fromHalves(halves: Uint16Array): Float32Array {
  const embedding = new Float32Array(halves.length);
  widenToUnit(halves, embedding, 0);
  return embedding;
}

/**
 * The value a cache round trip gives back: float16 precision, renormalised to unit length (rounding moves the norm
 * by up to ~1e-4). Every embedding the text path serves goes through this, so fresh and cached answers are identical.
 */
export function asStored(embedding: Float32Array): Float32Array {
  return unitLength(roundToFloat16(embedding));
}

/** {@link asStored} in place, for an embedding the caller owns (a label's fresh ensemble). */
export function asStoredInPlace(embedding: Float32Array): Float32Array {
  return unitLength(roundToFloat16(embedding, embedding));
}

function unitLength(embedding: Float32Array): Float32Array {
  normalizeInPlace(embedding);
  return embedding;
}
