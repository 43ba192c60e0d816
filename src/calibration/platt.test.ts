import { describe, expect, it } from "vitest";
import { mulberry32 } from "./cross-validation.ts";
import { fitPlatt, plattProbability } from "./platt.ts";

const logistic = (z: number) => 1 / (1 + Math.exp(-z));

/** Similarities uniform in [0.1, 0.4], each labelled by a coin weighted by the true model p = σ(a·s + b). */
function sampleFromModel(a: number, b: number, count: number, seed: number) {
  const random = mulberry32(seed);
  const similarities: number[] = [];
  const labels: boolean[] = [];
  for (let i = 0; i < count; i++) {
    const s = 0.1 + 0.3 * random();
    similarities.push(s);
    labels.push(random() < logistic(a * s + b));
  }
  return { similarities, labels };
}

describe("fitPlatt", () => {
  it("recovers a and b of the logistic model that generated the labels", () => {
    // 20,000 examples: the standard error of a is about 0.2 and of b about 0.06 for this model.
    const { similarities, labels } = sampleFromModel(20, -5, 20_000, 1);
    const { a, b } = fitPlatt(similarities, labels);
    expect(a).toBeGreaterThan(19);
    expect(a).toBeLessThan(21);
    expect(b).toBeGreaterThan(-5.3);
    expect(b).toBeLessThan(-4.7);
  });

  it("recovers a decreasing model too (the slope's sign is the data's)", () => {
    const { similarities, labels } = sampleFromModel(-15, 3, 20_000, 2);
    const { a, b } = fitPlatt(similarities, labels);
    expect(a).toBeCloseTo(-15, 0);
    expect(b).toBeCloseTo(3, 0);
  });

  it("stays finite on separable data and lands on Platt's smoothed targets", () => {
    // 2 positives above, 2 negatives below: the targets are 3/4 and 1/4, which the fit can match exactly.
    const mapping = fitPlatt([0.3, 0.3, 0.29, 0.29], [true, true, false, false]);
    expect(Number.isFinite(mapping.a) && Number.isFinite(mapping.b)).toBe(true);
    expect(plattProbability(mapping, 0.3)).toBeCloseTo(0.75, 6);
    expect(plattProbability(mapping, 0.29)).toBeCloseTo(0.25, 6);
  });

  it("stays finite when separable classes are only a float32 step apart", () => {
    const high = Math.fround(0.3000001);
    const low = Math.fround(0.3);
    const mapping = fitPlatt(
      [high, high, high, low, low, low, low],
      [true, true, true, false, false, false, false],
    );
    expect(Number.isFinite(mapping.a) && Number.isFinite(mapping.b)).toBe(true);
    expect(plattProbability(mapping, high)).toBeCloseTo(4 / 5, 4);
    expect(plattProbability(mapping, low)).toBeCloseTo(1 / 6, 4);
  });

  it("with every similarity equal, has no slope and gives the smoothed base rate", () => {
    // Targets: positives (1+1)/(1+2) = 2/3, negatives 1/(2+2) = 1/4; mean over 3 examples = 7/18.
    const mapping = fitPlatt([0.2, 0.2, 0.2], [true, false, false]);
    expect(mapping.a).toBe(0);
    expect(plattProbability(mapping, 0.2)).toBeCloseTo(7 / 18, 12);
    expect(plattProbability(mapping, 0.9)).toBeCloseTo(7 / 18, 12);
  });

  it("is monotonic in the direction of the data and deterministic", () => {
    const { similarities, labels } = sampleFromModel(25, -6, 500, 3);
    const first = fitPlatt(similarities, labels);
    expect(fitPlatt(similarities, labels)).toEqual(first);
    expect(first.a).toBeGreaterThan(0);
    expect(plattProbability(first, 0.35)).toBeGreaterThan(plattProbability(first, 0.15));
  });

  it("refuses a set with one class only", () => {
    expect(() => fitPlatt([0.1, 0.2], [true, true])).toThrow(RangeError);
    expect(() => fitPlatt([0.1, 0.2], [false, false])).toThrow(RangeError);
  });
});

describe("plattProbability", () => {
  it("does not overflow for huge slopes", () => {
    expect(plattProbability({ a: 1e9, b: 0 }, -1)).toBe(0);
    expect(plattProbability({ a: 1e9, b: 0 }, 1)).toBe(1);
    expect(plattProbability({ a: 20, b: -5 }, 0.25)).toBe(0.5);
  });
});
