import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  bestF1Threshold,
  chooseThreshold,
  confusionAt,
  lowestThresholdForPrecision,
  metricsOf,
} from "./thresholds.ts";

/** Small labelled sets with many ties: similarities drawn from a handful of values. */
const labelledSets = fc
  .array(fc.tuple(fc.integer({ min: 0, max: 8 }), fc.boolean()), { minLength: 1, maxLength: 40 })
  .map((pairs) => ({ similarities: pairs.map(([s]) => 0.1 + s * 0.03), labels: pairs.map(([, l]) => l) }))
  .filter(({ labels }) => labels.includes(true));

const precisionAt = (similarities: number[], labels: boolean[], threshold: number) =>
  metricsOf(confusionAt(similarities, labels, threshold)).precision;
const f1At = (similarities: number[], labels: boolean[], threshold: number) =>
  metricsOf(confusionAt(similarities, labels, threshold)).f1;

describe("confusionAt / metricsOf", () => {
  it("flags similarities at or above the threshold", () => {
    expect(confusionAt([0.3, 0.2, 0.2, 0.1], [true, false, true, true], 0.2)).toEqual({
      true_positives: 2,
      false_positives: 1,
      false_negatives: 1,
      true_negatives: 0,
    });
  });

  it("gives precision 0 (not NaN) when nothing is flagged, and exact 0.9 for 9 of 10", () => {
    expect(metricsOf(confusionAt([0.1, 0.2], [true, false], 0.5))).toEqual({
      precision: 0,
      recall: 0,
      f1: 0,
    });
    const m = metricsOf({ true_positives: 9, false_positives: 1, false_negatives: 9, true_negatives: 0 });
    expect(m.precision).toBe(0.9);
    expect(m.recall).toBe(0.5);
  });
});

describe("lowestThresholdForPrecision", () => {
  it("picks the lowest qualifying threshold even when precision dips above it", () => {
    // Precision by threshold: 0.5 → 1, 0.4 → 1/2, 0.3 → 2/3, 0.2 → 3/4. Target 0.7: 0.2 qualifies, 0.3 and 0.4 don't.
    const similarities = [0.5, 0.4, 0.3, 0.2];
    const labels = [true, false, true, true];
    expect(lowestThresholdForPrecision(similarities, labels, 0.7)).toBe(0.2);
    expect(lowestThresholdForPrecision(similarities, labels, 0.8)).toBe(0.5);
  });

  it("never splits a tie: a negative tied with a positive comes in with it", () => {
    // At 0.3 the positive and the negative are flagged together (precision 1/2); only 0.4 reaches 0.9.
    expect(lowestThresholdForPrecision([0.4, 0.3, 0.3, 0.1], [true, true, false, false], 0.9)).toBe(0.4);
  });

  it("returns undefined when no threshold reaches the target", () => {
    expect(lowestThresholdForPrecision([0.4, 0.3], [false, true], 0.9)).toBeUndefined();
  });

  it("does not sink below the lowest positive to pad precision down to the target", () => {
    // Separated classes: 0.25 reaches precision 10/11 ≥ 0.9 too, but only by flagging a negative for no recall.
    const similarities = [...Array<number>(10).fill(0.3), 0.25, 0.1];
    const labels = [...Array<boolean>(10).fill(true), false, false];
    expect(lowestThresholdForPrecision(similarities, labels, 0.9)).toBe(0.3);
  });

  it("reaches the target on its data and is the lowest positive's similarity that does (property)", () => {
    fc.assert(
      fc.property(labelledSets, fc.constantFrom(0.5, 0.75, 0.9, 1), ({ similarities, labels }, target) => {
        const threshold = lowestThresholdForPrecision(similarities, labels, target);
        const qualifying = similarities.filter(
          (t, i) => labels[i] && precisionAt(similarities, labels, t) >= target,
        );
        if (threshold === undefined) return qualifying.length === 0;
        return (
          precisionAt(similarities, labels, threshold) >= target && threshold === Math.min(...qualifying)
        );
      }),
    );
  });
});

describe("bestF1Threshold", () => {
  it("has the best F1 of any observed similarity, the highest among equals, at a positive's similarity (property)", () => {
    fc.assert(
      fc.property(labelledSets, ({ similarities, labels }) => {
        const threshold = bestF1Threshold(similarities, labels);
        const best = Math.max(...similarities.map((t) => f1At(similarities, labels, t)));
        const equallyGood = similarities.filter(
          (t) => Math.abs(f1At(similarities, labels, t) - best) < 1e-12,
        );
        return (
          f1At(similarities, labels, threshold) === best &&
          threshold === Math.max(...equallyGood) &&
          similarities.some((s, i) => labels[i] && s === threshold)
        );
      }),
    );
  });

  it("breaks an exact F1 tie towards the higher threshold (higher precision)", () => {
    // 0.4: TP 1, FP 0, FN 1 → F1 2/3. 0.2: TP 2, FP 2, FN 0 → F1 2/3. 0.3: TP 1, FP 1 → 1/2.
    expect(bestF1Threshold([0.4, 0.3, 0.2, 0.2], [true, false, true, false])).toBe(0.4);
  });
});

describe("chooseThreshold", () => {
  it("uses the target precision when reachable", () => {
    expect(chooseThreshold([0.4, 0.3, 0.2, 0.1], [true, true, false, true], 0.9)).toEqual({
      threshold: 0.3,
      rule: "target_precision",
      precision: 1,
      recall: 2 / 3,
      f1: 0.8,
    });
  });

  it("falls back to the best F1 when the target is out of reach", () => {
    // The top example is a negative, so precision never exceeds 3/4.
    const choice = chooseThreshold([0.5, 0.4, 0.3, 0.2, 0.1], [false, true, true, true, false], 0.9);
    expect(choice).toMatchObject({ threshold: 0.2, rule: "best_f1", precision: 0.75, recall: 1 });
  });

  it("with all similarities equal, the only threshold flags everything", () => {
    expect(chooseThreshold([0.2, 0.2, 0.2, 0.2], [true, false, true, true], 0.9)).toMatchObject({
      threshold: 0.2,
      rule: "best_f1",
      precision: 0.75,
    });
    expect(chooseThreshold([0.2, 0.2], [true, true], 0.9).rule).toBe("target_precision");
  });

  it("refuses a set without positives, and mismatched lengths", () => {
    expect(() => chooseThreshold([0.2, 0.3], [false, false], 0.9)).toThrow(RangeError);
    expect(() => chooseThreshold([0.2, 0.3], [true], 0.9)).toThrow(RangeError);
  });
});
