/**
 * Token-id rows between Transformers.js and our runtime, for the parity tests of test/model/: its tokenizer's
 * `input_ids` tensor as rows, and rows of ids embedded by our text encoder.
 */
import type { Tensor } from "@huggingface/transformers";
import type { ClipEncoders } from "../../gpu-service/model/index.ts";

/** A `[n, length]` int64 tensor (Transformers.js's `input_ids`) as `n` rows of numbers. */
export function idRows(tensor: Tensor): number[][] {
  const [n, length] = tensor.dims as [number, number];
  const data = Array.from(tensor.data as BigInt64Array, Number);
  return Array.from({ length: n }, (_, i) => data.slice(i * length, (i + 1) * length));
}

/**
 * Texts as token rows through `model`'s text encoder, one embedding per row: shorter rows are padded with 0 after the
 * end token, which the causal mask keeps every real token from seeing.
 */
export async function embedTokenRows(model: ClipEncoders, tokenRows: number[][]): Promise<Float32Array[]> {
  const length = Math.max(...tokenRows.map((r) => r.length));
  const ids = new BigInt64Array(tokenRows.length * length);
  for (const [i, row] of tokenRows.entries()) ids.set(row.map(BigInt), i * length);
  const lengths = tokenRows.map((r) => r.length);
  const flat = await model.embedTexts({ ids, count: tokenRows.length, length, lengths });
  const dim = model.embeddingDim;
  return tokenRows.map((_, r) => flat.slice(r * dim, (r + 1) * dim));
}
