/** Random banks and a brute-force search, for the captions tests. */

import type { BankModel } from "../../gpu-service/captions/bank-format.ts";
import { float16ToFloat32, float32ToFloat16, normalizeRows, topK } from "../../src/vector/index.ts";

/** `count` random unit rows (seeded), as float32 and as the float16 a bank stores. */
export function randomUnitRows(
  count: number,
  dim: number,
  seed: number,
): { rows: Float32Array; halves: Uint16Array } {
  let state = seed >>> 0 || 1;
  const next = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32 - 0.5;
  };
  const rows = normalizeRows(Float32Array.from({ length: count * dim }, next), dim);
  return { rows, halves: float32ToFloat16(rows) };
}

/** The exact answer: every row scored against each query (float16 rows widened, float64 sums), best k per query. */
export function bruteForce(
  halves: Uint16Array,
  dim: number,
  queries: Float32Array,
  k: number,
): { indices: number[]; scores: number[]; all: Float64Array }[] {
  const bank = float16ToFloat32(halves);
  const count = bank.length / dim;
  const results = [];
  for (let q = 0; q < queries.length / dim; q++) {
    const all = new Float64Array(count);
    for (let r = 0; r < count; r++) {
      let sum = 0;
      for (let i = 0; i < dim; i++) sum += (bank[r * dim + i] as number) * (queries[q * dim + i] as number);
      all[r] = sum;
    }
    const indices = topK(all, k);
    results.push({ indices, scores: indices.map((i) => all[i] as number), all });
  }
  return results;
}

export const FAKE_MODEL: BankModel = {
  id: "fake-model",
  tokenizerSha256: "0".repeat(64),
  textEncoder: { precision: "fp32", sha256: "1".repeat(64) },
};
