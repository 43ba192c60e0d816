import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  cosineSimilarity,
  dot,
  ensemble,
  ensembleRows,
  l2Normalize,
  matrixVectorProduct,
  normalizeRows,
  softmax,
  topK,
} from "./math.ts";

const vector = (dim: number) =>
  fc.float32Array({
    minLength: dim,
    maxLength: dim,
    noNaN: true,
    noDefaultInfinity: true,
    min: -1e3,
    max: 1e3,
  });
const norm = (v: ArrayLike<number>) => Math.sqrt(dot(v, v));

describe("l2Normalize", () => {
  it("gives unit vectors pointing the same way (property)", () => {
    fc.assert(
      fc.property(vector(16), (v) => {
        const n = norm(v);
        const u = l2Normalize(v);
        if (n < 1e-6) return true;
        return Math.abs(norm(u) - 1) < 1e-5 && cosineSimilarity(u, v) > 1 - 1e-5;
      }),
    );
  });

  it("keeps the zero vector zero instead of NaN", () => {
    expect(Array.from(l2Normalize([0, 0, 0]))).toEqual([0, 0, 0]);
  });

  it("normalizeRows normalises each row separately and rejects ragged shapes", () => {
    const m = normalizeRows(Float32Array.of(3, 4, 0, 5), 2);
    expect(Array.from(m)).toEqual([0.6000000238418579, 0.800000011920929, 0, 1]);
    expect(() => normalizeRows(new Float32Array(3), 2)).toThrow(RangeError);
  });
});

describe("cosineSimilarity and matrixVectorProduct", () => {
  it("cosine is symmetric, in [-1, 1], and 1 with itself (property)", () => {
    fc.assert(
      fc.property(vector(8), vector(8), (a, b) => {
        const c = cosineSimilarity(a, b);
        return Math.abs(c - cosineSimilarity(b, a)) < 1e-9 && c <= 1 + 1e-6 && c >= -1 - 1e-6;
      }),
    );
    expect(cosineSimilarity([2, 0], [5, 0])).toBeCloseTo(1, 12);
    expect(cosineSimilarity([1, 0], [0, 0])).toBe(0);
  });

  it("matrixVectorProduct equals a dot product per row", () => {
    const matrix = Float32Array.of(1, 2, 3, 4, 5, 6);
    expect(Array.from(matrixVectorProduct(matrix, 2, [1, 1]))).toEqual([3, 7, 11]);
    expect(() => matrixVectorProduct(matrix, 2, [1])).toThrow(RangeError);
  });
});

describe("softmax", () => {
  it("sums to one, keeps order, and does not overflow with CLIP's scale of 100 (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: 1, maxLength: 50 }),
        (logits) => {
          const p = softmax(logits, 100);
          const sum = p.reduce((a, b) => a + b, 0);
          const ordered = logits.every((x, i) =>
            logits.every((y, j) => (x > y ? (p[i] as number) >= (p[j] as number) : true)),
          );
          return Math.abs(sum - 1) < 1e-9 && ordered && p.every((x) => Number.isFinite(x));
        },
      ),
    );
  });

  it("matches the closed form for two logits", () => {
    const [a, b] = softmax([0.3, 0.2], 100);
    expect(a).toBeCloseTo(1 / (1 + Math.exp(-10)), 12);
    expect(b).toBeCloseTo(1 / (1 + Math.exp(10)), 12);
    expect(softmax([1e6, 0])[0]).toBe(1);
  });
});

describe("topK", () => {
  it("returns the k best indices best first, ties by lower index", () => {
    expect(topK([0.1, 0.9, 0.5, 0.9], 2)).toEqual([1, 3]);
    expect(topK([3, 1, 2], 10)).toEqual([0, 2, 1]);
    expect(topK([1, 2], 0)).toEqual([]);
    expect(topK([Number.NaN, 1, 0], 2)).toEqual([1, 2]);
  });

  it("equals a full stable sort (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -5, max: 5 })), fc.integer({ min: 0, max: 20 }), (scores, k) => {
        const sorted = scores.map((s, i) => [s, i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
        return JSON.stringify(topK(scores, k)) === JSON.stringify(sorted.slice(0, k).map(([, i]) => i));
      }),
    );
  });
});

describe("ensemble (CLIP paper's prompt ensembling)", () => {
  it("normalises each template embedding before averaging, then normalises", () => {
    // Without the first normalisation the long vector (10, 0) would dominate the mean.
    const result = ensemble(Float32Array.of(10, 0, 0, 1), 2);
    expect(result[0]).toBeCloseTo(Math.SQRT1_2, 6);
    expect(result[1]).toBeCloseTo(Math.SQRT1_2, 6);
  });

  it("of one template is just its unit vector, and rejects ragged input", () => {
    expect(Array.from(ensemble(Float32Array.of(0, 3), 2))).toEqual([0, 1]);
    expect(() => ensemble(new Float32Array(3), 2)).toThrow(RangeError);
  });

  it("ensembleRows gives the stacked ensemble's bits exactly, as the original copy-normalise-add loop computed them", () => {
    // The loop ensemble had before rows could be passed apart: each row copied, normalised in place, added.
    const reference = (stacked: Float32Array, dim: number) => {
      const mean = new Float32Array(dim);
      const row = new Float32Array(dim);
      for (let start = 0; start < stacked.length; start += dim) {
        row.set(stacked.subarray(start, start + dim));
        const norm = Math.sqrt(dot(row, row));
        if (norm > 0) for (let i = 0; i < dim; i++) row[i] = (row[i] as number) / norm;
        for (let i = 0; i < dim; i++) mean[i] = (mean[i] as number) + (row[i] as number);
      }
      const norm = Math.sqrt(dot(mean, mean));
      if (norm > 0) for (let i = 0; i < dim; i++) mean[i] = (mean[i] as number) / norm;
      return mean;
    };
    const bits = (v: Float32Array) => Array.from(new Uint32Array(v.buffer, v.byteOffset, v.length));
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer(),
        (templates, dim, seed) => {
          let state = seed >>> 0;
          const stacked = Float32Array.from({ length: templates * dim }, () => {
            state = (Math.imul(state, 1103515245) + 12345) >>> 0;
            return state % 7 === 0 ? 0 : state / 2 ** 32 - 0.5;
          });
          const rows = Array.from({ length: templates }, (_, r) =>
            Float32Array.from(stacked.subarray(r * dim, (r + 1) * dim)),
          );
          expect(bits(ensembleRows(rows, dim))).toEqual(bits(reference(stacked, dim)));
          // With the rows' dots with themselves given (NaN: not known, computed), as a normalisation returns them.
          const selfDots = rows.map((row, r) => (r % 2 ? Number.NaN : dot(row, row)));
          expect(bits(ensembleRows(rows, dim, selfDots))).toEqual(bits(reference(stacked, dim)));
          // And as stretches of the stacked array itself.
          const offsets = rows.map((_, r) => r * dim);
          expect(
            bits(
              ensembleRows(
                rows.map(() => stacked),
                dim,
                selfDots,
                offsets,
              ),
            ),
          ).toEqual(bits(reference(stacked, dim)));
          expect(bits(ensemble(stacked, dim))).toEqual(bits(reference(stacked, dim)));
        },
      ),
      { numRuns: 500 },
    );
    expect(bits(ensembleRows([new Float32Array(3), Float32Array.of(0, 0, 2)], 3))).toEqual(
      bits(reference(Float32Array.of(0, 0, 0, 0, 0, 2), 3)),
    );
    expect(() => ensembleRows([new Float32Array(2), new Float32Array(3)], 2)).toThrow(RangeError);
  });
});
