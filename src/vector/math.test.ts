import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  cosineSimilarity,
  dot,
  ensemble,
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
});
