import { describe, expect, it } from "vitest";
import { calibrateCategory, calibratePolicy } from "./calibrate.ts";
import { mulberry32 } from "./cross-validation.ts";
import { fitPlatt } from "./platt.ts";
import { chooseThreshold, confusionAt, metricsOf } from "./thresholds.ts";

/** Positives ~ N(positiveMean, sd), negatives ~ N(negativeMean, sd), by Box–Muller on the seeded generator. */
function twoGaussians(options: {
  positives: number;
  negatives: number;
  positiveMean: number;
  negativeMean: number;
  sd: number;
  seed: number;
}) {
  const random = mulberry32(options.seed);
  const gaussian = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const similarities: number[] = [];
  const labels: boolean[] = [];
  for (let i = 0; i < options.positives + options.negatives; i++) {
    const positive = i < options.positives;
    similarities.push((positive ? options.positiveMean : options.negativeMean) + options.sd * gaussian());
    labels.push(positive);
  }
  return { similarities, labels };
}

describe("calibrateCategory", () => {
  it("stores the threshold and mapping fitted on all examples, and reports out-of-fold figures", () => {
    const similarities = [0.31, 0.29, 0.33, 0.12, 0.15, 0.1];
    const labels = [true, true, true, false, false, false];
    const result = calibrateCategory(similarities, labels, { folds: 3 });
    expect(result).toMatchObject({
      status: "calibrated",
      threshold: chooseThreshold(similarities, labels, 0.9).threshold,
      threshold_rule: "target_precision",
      platt: fitPlatt(similarities, labels),
      positives: 3,
      negatives: 3,
      folds: 3,
    });
    // In sample the threshold 0.29 flags every positive; out of fold the lowest positive is held out once and the
    // bar set by the other two (≥ 0.31) misses it. Recall 1 here would mean the figures were measured in sample.
    expect(metricsOf(confusionAt(similarities, labels, 0.29)).recall).toBe(1);
    expect(result).toMatchObject({ precision: 1, recall: 2 / 3, f1: 0.8, target_met: true });
  });

  it("measures out of fold close to in sample on well-separated classes", () => {
    const { similarities, labels } = twoGaussians({
      positives: 300,
      negatives: 700,
      positiveMean: 0.3,
      negativeMean: 0.18,
      sd: 0.03,
      seed: 5,
    });
    const result = calibrateCategory(similarities, labels);
    if (result.status !== "calibrated") throw new Error(result.reason);
    const inSample = metricsOf(confusionAt(similarities, labels, result.threshold));
    expect(result.folds).toBe(5);
    expect(inSample.precision).toBeGreaterThanOrEqual(0.9);
    expect(Math.abs(result.precision - inSample.precision)).toBeLessThan(0.1);
    expect(Math.abs(result.recall - inSample.recall)).toBeLessThan(0.1);
    expect(result.recall).toBeGreaterThan(0.8);
  });

  it("on perfectly separated classes flags every positive and nothing else, in and out of fold", () => {
    const { similarities, labels } = twoGaussians({
      positives: 50,
      negatives: 150,
      positiveMean: 0.32,
      negativeMean: 0.15,
      sd: 0.01,
      seed: 4,
    });
    const lowestPositive = Math.min(...similarities.filter((_, i) => labels[i]));
    expect(Math.max(...similarities.filter((_, i) => !labels[i]))).toBeLessThan(lowestPositive);
    const result = calibrateCategory(similarities, labels);
    expect(result).toMatchObject({ threshold: lowestPositive, precision: 1, target_met: true });
    if (result.status === "calibrated") expect(result.recall).toBeGreaterThan(0.9);
  });

  it("is reproducible: same seed, same result", () => {
    const { similarities, labels } = twoGaussians({
      positives: 40,
      negatives: 60,
      positiveMean: 0.26,
      negativeMean: 0.2,
      sd: 0.04,
      seed: 9,
    });
    const options = { targetPrecision: 0.8, folds: 4, seed: 123 };
    expect(calibrateCategory(similarities, labels, options)).toEqual(
      calibrateCategory(similarities, labels, options),
    );
  });

  it("falls back to the best F1 and says the target was not met when it is out of reach", () => {
    const { similarities, labels } = twoGaussians({
      positives: 50,
      negatives: 50,
      positiveMean: 0.22,
      negativeMean: 0.2,
      sd: 0.05,
      seed: 2,
    });
    // Precision 1 is out of reach: the highest similarity is made a negative.
    const top = similarities.indexOf(Math.max(...similarities));
    labels[top] = false;
    const result = calibrateCategory(similarities, labels, { targetPrecision: 1 });
    expect(result).toMatchObject({ status: "calibrated", threshold_rule: "best_f1", target_met: false });
  });

  it("cannot calibrate without positives, without negatives, or with one of a class", () => {
    expect(calibrateCategory([0.1, 0.2, 0.3], [false, false, false])).toEqual({
      status: "uncalibrated",
      reason: "no_positives",
      positives: 0,
      negatives: 3,
    });
    expect(calibrateCategory([0.1, 0.2], [true, true])).toMatchObject({ reason: "no_negatives" });
    expect(calibrateCategory([0.3, 0.2, 0.1], [true, false, false])).toMatchObject({
      status: "uncalibrated",
      reason: "too_few_positives",
    });
    expect(calibrateCategory([0.3, 0.2, 0.1], [true, true, false])).toMatchObject({
      reason: "too_few_negatives",
    });
    expect(calibrateCategory([], [])).toMatchObject({ reason: "no_positives" });
  });

  it("calibrates a tiny set with two positives on two folds", () => {
    const result = calibrateCategory(
      [0.35, 0.3, 0.2, 0.18, 0.15, 0.1],
      [true, true, false, false, false, false],
    );
    expect(result).toMatchObject({
      status: "calibrated",
      folds: 2,
      threshold: 0.3,
      positives: 2,
      negatives: 4,
    });
  });

  it("with every similarity equal, flags everything at that similarity and measures the base rate", () => {
    const labels = [true, true, false, false, false, false];
    const result = calibrateCategory(Array<number>(6).fill(0.25), labels);
    expect(result).toMatchObject({
      status: "calibrated",
      threshold: 0.25,
      threshold_rule: "best_f1",
      platt: { a: 0 },
      precision: 2 / 6,
      recall: 1,
      target_met: false,
    });
  });

  it("keeps tied similarities on the same side of the threshold", () => {
    // A negative tied with the lowest positives: 0.3 would flag it (precision 3/4), so the bar stays at 0.4.
    const result = calibrateCategory(
      [0.4, 0.4, 0.3, 0.3, 0.3, 0.1, 0.1],
      [true, true, true, true, false, false, false],
      {
        folds: 2,
      },
    );
    expect(result).toMatchObject({
      status: "calibrated",
      threshold: 0.4,
      threshold_rule: "target_precision",
    });
  });

  it("throws on inputs a validated upload cannot hold", () => {
    expect(() => calibrateCategory([0.1], [true, false])).toThrow(RangeError);
    expect(() => calibrateCategory([0.1, Number.NaN], [true, false])).toThrow(RangeError);
    expect(() => calibrateCategory([0.1, 0.2], [true, false], { targetPrecision: 0 })).toThrow(RangeError);
    expect(() => calibrateCategory([0.1, 0.2], [true, false], { folds: 1 })).toThrow(RangeError);
    expect(() => calibrateCategory([0.1, 0.2], [true, false], { seed: 0.5 })).toThrow(RangeError);
  });
});

describe("calibratePolicy", () => {
  it("calibrates each category from the same examples; clean examples are negatives everywhere", () => {
    const examples = [
      { similarities: { violence: 0.34, nudity: 0.11 }, categories: ["violence"] },
      { similarities: { violence: 0.31, nudity: 0.12 }, categories: ["violence"] },
      { similarities: { violence: 0.14, nudity: 0.13 }, categories: [] },
      { similarities: { violence: 0.12, nudity: 0.1 }, categories: [] },
    ];
    const results = calibratePolicy(["violence", "nudity"], examples);
    expect(results.violence).toMatchObject({
      status: "calibrated",
      threshold: 0.31,
      positives: 2,
      negatives: 2,
    });
    expect(results.nudity).toEqual({
      status: "uncalibrated",
      reason: "no_positives",
      positives: 0,
      negatives: 4,
    });
  });

  it("throws on an unknown category or a missing similarity", () => {
    expect(() =>
      calibratePolicy(["violence"], [{ similarities: { violence: 0.3 }, categories: ["spam"] }]),
    ).toThrow(RangeError);
    expect(() =>
      calibratePolicy(["violence", "nudity"], [{ similarities: { violence: 0.3 }, categories: [] }]),
    ).toThrow(RangeError);
  });
});
