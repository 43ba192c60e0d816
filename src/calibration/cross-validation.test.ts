import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type FoldModel, foldCount, mulberry32, outOfFold, stratifiedFolds } from "./cross-validation.ts";
import { plattProbability } from "./platt.ts";

/** Overlapping classes, so thresholds and mappings depend on which examples they were fitted to. */
function overlappingSet(count: number, seed: number) {
  const random = mulberry32(seed);
  const labels = Array.from({ length: count }, () => random() < 0.4);
  const similarities = labels.map((label) => (label ? 0.22 : 0.16) + 0.12 * random());
  return { similarities, labels };
}

function countPerFold(
  foldOf: readonly number[],
  folds: number,
  counted: (example: number) => boolean,
): number[] {
  const counts = Array<number>(folds).fill(0);
  foldOf.forEach((fold, example) => {
    if (counted(example)) counts[fold] = (counts[fold] ?? 0) + 1;
  });
  return counts;
}

describe("mulberry32", () => {
  it("is reproducible from its seed, in [0, 1), and differs between seeds", () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const draws = Array.from({ length: 1000 }, () => a());
    expect(Array.from({ length: 1000 }, () => b())).toEqual(draws);
    expect(draws.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(mulberry32(43)()).not.toBe(draws[0]);
  });
});

describe("foldCount", () => {
  it("uses fewer folds when a class is smaller than the request", () => {
    expect(foldCount(100, 100, 5)).toBe(5);
    expect(foldCount(2, 100, 5)).toBe(2);
    expect(foldCount(100, 3, 5)).toBe(3);
  });
});

describe("stratifiedFolds", () => {
  it("keeps both classes in every fold, each class spread within one example (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 1, max: 10 }),
        fc.integer(),
        (positives, negatives, requested, seed) => {
          const folds = foldCount(positives, negatives, requested);
          const labels = [...Array<boolean>(positives).fill(true), ...Array<boolean>(negatives).fill(false)];
          const foldOf = stratifiedFolds(labels, folds, seed);
          for (const label of [true, false]) {
            const perFold = countPerFold(foldOf, folds, (i) => labels[i] === label);
            if (Math.min(...perFold) < 1 || Math.max(...perFold) - Math.min(...perFold) > 1) return false;
          }
          const sizes = countPerFold(foldOf, folds, () => true);
          return Math.max(...sizes) - Math.min(...sizes) <= 1;
        },
      ),
    );
  });

  it("is the same for the same seed and shuffles differently for another", () => {
    const labels = Array.from({ length: 60 }, (_, i) => i % 3 === 0);
    expect(stratifiedFolds(labels, 5, 7)).toEqual(stratifiedFolds(labels, 5, 7));
    expect(stratifiedFolds(labels, 5, 8)).not.toEqual(stratifiedFolds(labels, 5, 7));
    expect(stratifiedFolds([true, true, false, false], 2, 7)).toEqual([1, 0, 1, 0]);
  });
});

describe("outOfFold", () => {
  const { similarities, labels } = overlappingSet(120, 11);
  const foldOf = stratifiedFolds(labels, 5, 3);

  it("decides every example with the model of its own fold", () => {
    const { decisions, probabilities, models } = outOfFold(similarities, labels, foldOf, 0.9);
    expect(models).toHaveLength(5);
    similarities.forEach((s, i) => {
      const model = models[foldOf[i] as number] as FoldModel;
      expect(decisions[i]).toBe(s >= model.threshold.threshold);
      expect(probabilities[i]).toBe(plattProbability(model.mapping, s));
    });
  });

  it("never fits on a held-out example: flipping its label changes nothing in its fold, but does elsewhere", () => {
    const before = outOfFold(similarities, labels, foldOf, 0.9);
    let changedElsewhere = false;
    for (let flipped = 0; flipped < labels.length; flipped++) {
      const flippedLabels = labels.map((label, i) => (i === flipped ? !label : label));
      const after = outOfFold(similarities, flippedLabels, foldOf, 0.9);
      const fold = foldOf[flipped] as number;
      // Its own fold's model was fitted on the other folds only, so it is bit for bit the same.
      expect(after.models[fold]).toEqual(before.models[fold]);
      foldOf.forEach((f, i) => {
        if (f !== fold) return;
        expect(after.decisions[i]).toBe(before.decisions[i]);
        expect(after.probabilities[i]).toBe(before.probabilities[i]);
      });
      // The other folds did train on it: the test can tell a leak from no effect.
      if (after.models.some((model, f) => f !== fold && model.mapping.a !== before.models[f]?.mapping.a))
        changedElsewhere = true;
    }
    expect(changedElsewhere).toBe(true);
  });

  it("refuses arrays of different lengths", () => {
    expect(() => outOfFold(similarities, labels, foldOf.slice(1), 0.9)).toThrow(RangeError);
  });
});
