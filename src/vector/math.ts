/**
 * Vector math on embeddings: plain loops over Float32Array, shared by the GPU tier and the edge.
 * An embedding matrix is row-major: `rows × dim` values in one Float32Array.
 */

/** Dot product of two equal-length vectors. @example dot([1, 2], [3, 4]) === 11 */
export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`dot: lengths differ (${a.length} vs ${b.length})`);
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i] as number) * (b[i] as number);
  return sum;
}

/**
 * A unit-length copy of `v`. The zero vector stays zero rather than becoming NaN.
 *
 * @example l2Normalize(Float32Array.of(3, 4)) → [0.6, 0.8]
 */
export function l2Normalize(v: ArrayLike<number>): Float32Array {
  const out = Float32Array.from(v);
  normalizeInPlace(out);
  return out;
}

/** Normalises `v` in place; returns its original norm. */
export function normalizeInPlace(v: Float32Array): number {
  const norm = Math.sqrt(dot(v, v));
  if (norm > 0) for (let i = 0; i < v.length; i++) v[i] = (v[i] as number) / norm;
  return norm;
}

/** Normalises every row of a `rows × dim` matrix in place. */
export function normalizeRows(matrix: Float32Array, dim: number): Float32Array {
  if (dim <= 0 || matrix.length % dim !== 0)
    throw new RangeError(`normalizeRows: ${matrix.length} values are not rows of ${dim}`);
  for (let start = 0; start < matrix.length; start += dim)
    normalizeInPlace(matrix.subarray(start, start + dim));
  return matrix;
}

/** Cosine similarity; 0 when either vector is zero. @example cosineSimilarity([1, 0], [0, 2]) === 0 */
export function cosineSimilarity(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const denominator = Math.sqrt(dot(a, a) * dot(b, b));
  return denominator > 0 ? dot(a, b) / denominator : 0;
}

/**
 * Scores of one query against every row of a matrix (`rows × dim`): `out[r] = query · row r`. With unit vectors
 * these are cosine similarities.
 */
export function matrixVectorProduct(
  matrix: Float32Array,
  dim: number,
  query: ArrayLike<number>,
): Float32Array {
  if (query.length !== dim || matrix.length % dim !== 0)
    throw new RangeError("matrixVectorProduct: shapes differ");
  const rows = matrix.length / dim;
  const out = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let sum = 0;
    const offset = r * dim;
    for (let i = 0; i < dim; i++) sum += (matrix[offset + i] as number) * (query[i] as number);
    out[r] = sum;
  }
  return out;
}

/**
 * Softmax of `logits × scale`, computed stably (the maximum is subtracted first). CLIP's zero-shot probabilities are
 * `softmax(cosines, logitScale)` with `logitScale = exp(logit_scale)` from the model config (100 for OpenAI's models).
 *
 * @example softmax([0.3, 0.2], 100) → [0.99995…, 0.0000454…]
 */
export function softmax(logits: ArrayLike<number>, scale = 1): Float64Array {
  const out = new Float64Array(logits.length);
  if (logits.length === 0) return out;
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, (logits[i] as number) * scale);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    out[i] = Math.exp((logits[i] as number) * scale - max);
    sum += out[i] as number;
  }
  for (let i = 0; i < out.length; i++) out[i] = (out[i] as number) / sum;
  return out;
}

/**
 * Indices of the `k` largest scores, best first; ties keep the lower index first so results are deterministic.
 * O(n log k) with a small heap, so a top-5 over a million captions does not sort a million numbers.
 *
 * @example topK([0.1, 0.9, 0.5, 0.9], 2) → [1, 3]
 */
export function topK(scores: ArrayLike<number>, k: number): number[] {
  const wanted = Math.max(0, Math.min(Math.floor(k), scores.length));
  if (wanted === 0) return [];
  // A min-heap of the best `wanted` indices seen so far; its root is the weakest of them.
  const heap: number[] = [];
  const worse = (a: number, b: number) => {
    const sa = scores[a] as number;
    const sb = scores[b] as number;
    return sa < sb || (sa === sb && a > b);
  };
  const siftDown = (start: number) => {
    let i = start;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let weakest = i;
      if (l < heap.length && worse(heap[l] as number, heap[weakest] as number)) weakest = l;
      if (r < heap.length && worse(heap[r] as number, heap[weakest] as number)) weakest = r;
      if (weakest === i) return;
      [heap[i], heap[weakest]] = [heap[weakest] as number, heap[i] as number];
      i = weakest;
    }
  };
  for (let index = 0; index < scores.length; index++) {
    if (Number.isNaN(scores[index])) continue;
    if (heap.length < wanted) {
      heap.push(index);
      for (let i = heap.length - 1; i > 0; ) {
        const parent = (i - 1) >> 1;
        if (!worse(heap[i] as number, heap[parent] as number)) break;
        [heap[i], heap[parent]] = [heap[parent] as number, heap[i] as number];
        i = parent;
      }
    } else if (worse(heap[0] as number, index)) {
      heap[0] = index;
      siftDown(0);
    }
  }
  return heap.sort((a, b) => (worse(a, b) ? 1 : worse(b, a) ? -1 : 0));
}

/**
 * Prompt-template ensembling as in the CLIP paper's ImageNet notebook: normalise each template's embedding, average,
 * normalise again. `embeddings` holds one row per template (`templates × dim`).
 *
 * @example ensemble(Float32Array.of(1, 0, 0, 1), 2) → [0.7071, 0.7071]
 */
export function ensemble(embeddings: Float32Array, dim: number): Float32Array {
  if (dim <= 0 || embeddings.length === 0 || embeddings.length % dim !== 0) {
    throw new RangeError(`ensemble: ${embeddings.length} values are not a whole number of rows of ${dim}`);
  }
  const rows: Float32Array[] = [];
  for (let start = 0; start < embeddings.length; start += dim)
    rows.push(embeddings.subarray(start, start + dim));
  return ensembleRows(rows, dim);
}

/**
 * {@link ensemble} over rows held apart (a label's prompts, each its own array or a stretch of a larger one), without
 * stacking them. The same arithmetic in the same order — each row's norm summed in doubles, each normalised value
 * rounded to float32 before it is added — so the result is the same, bit for bit. Row r is `rows[r]` from
 * `offsets[r]` (default 0); `selfDots[r]`, when given and not NaN, must be its dot product with itself (a
 * normalisation that has just computed it saves a pass over the row).
 *
 * @example ensembleRows([Float32Array.of(1, 0), Float32Array.of(0, 1)], 2) → [0.7071, 0.7071]
 */
export function ensembleRows(
  rows: readonly Float32Array[],
  dim: number,
  selfDots?: ArrayLike<number>,
  offsets?: ArrayLike<number>,
): Float32Array {
  if (dim <= 0 || rows.length === 0) throw new RangeError(`ensembleRows: no rows, or dim ${dim}`);
  const mean = new Float32Array(dim);
  for (const [r, row] of rows.entries()) {
    const start = offsets?.[r] ?? 0;
    const fits = offsets
      ? Number.isInteger(start) && start >= 0 && start + dim <= row.length
      : row.length === dim;
    if (!fits) throw new RangeError(`ensembleRows: row ${r} is not ${dim} values from ${start}`);
    const known = selfDots?.[r];
    let norm: number;
    if (known === undefined || Number.isNaN(known)) {
      let squares = 0;
      for (let i = start; i < start + dim; i++) squares += (row[i] as number) * (row[i] as number);
      norm = Math.sqrt(squares);
    } else norm = Math.sqrt(known);
    if (norm > 0)
      for (let i = 0; i < dim; i++)
        mean[i] = (mean[i] as number) + Math.fround((row[start + i] as number) / norm);
    else for (let i = 0; i < dim; i++) mean[i] = (mean[i] as number) + (row[start + i] as number);
  }
  normalizeInPlace(mean);
  return mean;
}
