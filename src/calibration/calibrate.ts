/**
 * Calibration of a moderation policy's categories from a customer's labelled examples: per category, a threshold
 * ("flag when similarity ≥ threshold"), a Platt mapping from similarity to probability, and the precision, recall
 * and F1 they achieve — measured by stratified cross-validation, never on the examples they were fitted to. The
 * stored threshold and mapping are then fitted on all the examples.
 */

import { foldCount, outOfFold, stratifiedFolds } from "./cross-validation.ts";
import { fitPlatt, type PlattMapping } from "./platt.ts";
import { chooseThreshold, confusionOfDecisions, metricsOf, type ThresholdRule } from "./thresholds.ts";

export interface CalibrationOptions {
  /** The precision the threshold must reach, in (0, 1]. */
  targetPrecision: number;
  /** Cross-validation folds asked for (at least 2); fewer are used when a class has fewer examples. */
  folds: number;
  /** Seeds the fold shuffle: the same seed and examples give the same calibration. */
  seed: number;
}

export const DEFAULT_CALIBRATION_OPTIONS: Readonly<CalibrationOptions> = {
  targetPrecision: 0.9,
  folds: 5,
  seed: 0x5eed,
};

/**
 * Why a category could not be calibrated. With one example of a class there is no fold split in which both the
 * training and the held-out side have it, so no figure could be measured honestly.
 */
export type CalibrationFailure = "no_positives" | "no_negatives" | "too_few_positives" | "too_few_negatives";

/** Fewest examples of each class for cross-validation (two folds, one of each class in each). */
export const MIN_EXAMPLES_PER_CLASS = 2;

export interface CalibratedCategory {
  status: "calibrated";
  /** Flag when similarity ≥ threshold; fitted on all examples. */
  threshold: number;
  /** How the stored threshold was chosen on all examples: the target precision was reachable, or the best F1. */
  threshold_rule: ThresholdRule;
  /** Similarity → probability, fitted on all examples. */
  platt: PlattMapping;
  /** Out-of-fold precision, recall and F1, from the pooled held-out decisions. */
  precision: number;
  recall: number;
  f1: number;
  /** Whether the out-of-fold precision reached the target. */
  target_met: boolean;
  positives: number;
  negatives: number;
  /** Folds actually used. */
  folds: number;
}

export interface UncalibratedCategory {
  status: "uncalibrated";
  reason: CalibrationFailure;
  positives: number;
  negatives: number;
}

export type CategoryCalibration = CalibratedCategory | UncalibratedCategory;

/** One labelled example as a customer uploads it: a similarity per category, and the categories it belongs to. */
export interface LabelledExample {
  similarities: Readonly<Record<string, number>>;
  /** Empty for a clean example. */
  categories: readonly string[];
}

/**
 * Calibrates one category. `similarities[i]` is example i's raw similarity to the category, `labels[i]` whether it
 * truly belongs. Throws (a bug: the caller validates uploads) on lengths that differ, non-finite similarities or
 * options out of range.
 *
 * @example
 * calibrateCategory([0.31, 0.29, 0.33, 0.12, 0.15, 0.1], [true, true, true, false, false, false], { folds: 3 })
 *   // { status: "calibrated", threshold: 0.29, threshold_rule: "target_precision", precision: 1, recall: 2/3, … }
 *   // (out of fold, the 0.29 positive is missed: the other folds' positives put the bar at 0.31)
 */
export function calibrateCategory(
  similarities: readonly number[],
  labels: readonly boolean[],
  options: Partial<CalibrationOptions> = {},
): CategoryCalibration {
  const { targetPrecision, folds: requestedFolds, seed } = { ...DEFAULT_CALIBRATION_OPTIONS, ...options };
  checkInputs(similarities, labels, { targetPrecision, folds: requestedFolds, seed });

  const positives = labels.filter(Boolean).length;
  const negatives = labels.length - positives;
  const failure = failureOf(positives, negatives);
  if (failure) return { status: "uncalibrated", reason: failure, positives, negatives };

  const folds = foldCount(positives, negatives, requestedFolds);
  const foldOf = stratifiedFolds(labels, folds, seed);
  const { decisions } = outOfFold(similarities, labels, foldOf, targetPrecision);
  // Pooled, not averaged per fold: a fold with few flags would otherwise weigh as much as one with many.
  const measured = metricsOf(confusionOfDecisions(decisions, labels));

  const final = chooseThreshold(similarities, labels, targetPrecision);
  return {
    status: "calibrated",
    threshold: final.threshold,
    threshold_rule: final.rule,
    platt: fitPlatt(similarities, labels),
    precision: measured.precision,
    recall: measured.recall,
    f1: measured.f1,
    target_met: measured.precision >= targetPrecision,
    positives,
    negatives,
    folds,
  };
}

/**
 * Calibrates each of a policy's categories from the same examples. Every example must carry a similarity for every
 * category; a category it lists that is not in `categories` is a bug of the caller and throws.
 *
 * @example
 * calibratePolicy(["violence", "nudity"], [{ similarities: { violence: 0.31, nudity: 0.12 }, categories: ["violence"] }, …])
 *   // { violence: { status: "calibrated", … }, nudity: { status: "uncalibrated", reason: "no_positives", … } }
 */
export function calibratePolicy(
  categories: readonly string[],
  examples: readonly LabelledExample[],
  options: Partial<CalibrationOptions> = {},
): Record<string, CategoryCalibration> {
  const known = new Set(categories);
  for (const example of examples)
    for (const category of example.categories)
      if (!known.has(category)) throw new RangeError(`calibratePolicy: unknown category ${category}`);
  const results: Record<string, CategoryCalibration> = {};
  for (const category of categories) {
    const similarities = examples.map((example) => {
      const similarity = example.similarities[category];
      if (similarity === undefined)
        throw new RangeError(`calibratePolicy: an example has no ${category} similarity`);
      return similarity;
    });
    const labels = examples.map((example) => example.categories.includes(category));
    results[category] = calibrateCategory(similarities, labels, options);
  }
  return results;
}

function failureOf(positives: number, negatives: number): CalibrationFailure | undefined {
  if (positives === 0) return "no_positives";
  if (negatives === 0) return "no_negatives";
  if (positives < MIN_EXAMPLES_PER_CLASS) return "too_few_positives";
  if (negatives < MIN_EXAMPLES_PER_CLASS) return "too_few_negatives";
  return undefined;
}

function checkInputs(
  similarities: readonly number[],
  labels: readonly boolean[],
  options: CalibrationOptions,
): void {
  if (similarities.length !== labels.length)
    throw new RangeError(`${similarities.length} similarities but ${labels.length} labels`);
  if (!similarities.every(Number.isFinite)) throw new RangeError("similarities must be finite numbers");
  if (!(options.targetPrecision > 0 && options.targetPrecision <= 1))
    throw new RangeError(`targetPrecision ${options.targetPrecision} is not in (0, 1]`);
  if (!Number.isInteger(options.folds) || options.folds < 2)
    throw new RangeError(`folds ${options.folds} is not an integer of at least 2`);
  if (!Number.isInteger(options.seed)) throw new RangeError(`seed ${options.seed} is not an integer`);
}
