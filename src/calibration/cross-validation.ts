/**
 * Stratified k-fold cross-validation of a category's calibration. Each fold's threshold and Platt mapping are fitted
 * on the other folds only and applied to the held-out fold, so the pooled out-of-fold decisions measure what the
 * calibration will do on examples it has not seen — in-sample figures flatter a threshold chosen on the same data.
 */

import { fitPlatt, type PlattMapping, plattProbability } from "./platt.ts";
import { chooseThreshold, type ThresholdChoice } from "./thresholds.ts";

/**
 * mulberry32: a tiny seeded generator, uniform in [0, 1). Enough for shuffling folds, and the same on every runtime,
 * so a customer's calibration can be reproduced from its seed.
 *
 * @example const next = mulberry32(42); next() === mulberry32(42)() // true
 */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * How many folds to use: the requested number, fewer when a class has fewer examples, because every fold must hold at
 * least one of each class (and so every training set too). Below 2 there is nothing to cross-validate.
 *
 * @example foldCount(3, 40, 5) === 3
 */
export function foldCount(positives: number, negatives: number, requested: number): number {
  return Math.min(requested, positives, negatives);
}

/**
 * The fold (0 … folds − 1) of every example. Each class is shuffled with the seed and dealt round-robin, so each fold
 * gets ⌊n/k⌋ or ⌈n/k⌉ of each class; negatives continue the deal where positives stopped, keeping fold sizes within
 * one of each other.
 *
 * @example stratifiedFolds([true, true, false, false], 2, 7) // [1, 0, 1, 0]: one of each class per fold
 */
export function stratifiedFolds(labels: readonly boolean[], folds: number, seed: number): number[] {
  if (!Number.isInteger(folds) || folds < 1) throw new RangeError(`stratifiedFolds: ${folds} folds`);
  const random = mulberry32(seed);
  const positives: number[] = [];
  const negatives: number[] = [];
  labels.forEach((label, i) => {
    (label ? positives : negatives).push(i);
  });
  shuffle(positives, random);
  shuffle(negatives, random);
  const foldOf = new Array<number>(labels.length).fill(0);
  positives.forEach((example, position) => {
    foldOf[example] = position % folds;
  });
  negatives.forEach((example, position) => {
    foldOf[example] = (positives.length + position) % folds;
  });
  return foldOf;
}

/** What one fold's training examples produced. */
export interface FoldModel {
  threshold: ThresholdChoice;
  mapping: PlattMapping;
}

export interface OutOfFold {
  /** Per example: flagged by the model fitted without its fold. */
  decisions: boolean[];
  /** Per example: the probability from the model fitted without its fold. */
  probabilities: number[];
  /** Per fold: the model fitted on the other folds. */
  models: FoldModel[];
}

/**
 * Fits a threshold and a mapping per fold on the other folds and applies them to that fold.
 * `foldOf` comes from stratifiedFolds (any assignment works as long as every training set holds both classes).
 *
 * @example
 * const foldOf = stratifiedFolds(labels, 5, seed);
 * const { decisions } = outOfFold(similarities, labels, foldOf, 0.9);
 */
export function outOfFold(
  similarities: readonly number[],
  labels: readonly boolean[],
  foldOf: readonly number[],
  targetPrecision: number,
): OutOfFold {
  if (similarities.length !== labels.length || foldOf.length !== labels.length)
    throw new RangeError("outOfFold: similarities, labels and folds differ in length");
  let folds = 0;
  for (const fold of foldOf) folds = Math.max(folds, fold + 1);
  const decisions = new Array<boolean>(labels.length).fill(false);
  const probabilities = new Array<number>(labels.length).fill(0);
  const models: FoldModel[] = [];
  for (let fold = 0; fold < folds; fold++) {
    const trainSimilarities: number[] = [];
    const trainLabels: boolean[] = [];
    for (let i = 0; i < labels.length; i++) {
      if (foldOf[i] === fold) continue;
      trainSimilarities.push(similarities[i] as number);
      trainLabels.push(labels[i] as boolean);
    }
    const model: FoldModel = {
      threshold: chooseThreshold(trainSimilarities, trainLabels, targetPrecision),
      mapping: fitPlatt(trainSimilarities, trainLabels),
    };
    models.push(model);
    for (let i = 0; i < labels.length; i++) {
      if (foldOf[i] !== fold) continue;
      const similarity = similarities[i] as number;
      decisions[i] = similarity >= model.threshold.threshold;
      probabilities[i] = plattProbability(model.mapping, similarity);
    }
  }
  return { decisions, probabilities, models };
}

/** Fisher–Yates in place, driven by the seeded generator so the shuffle is reproducible. */
function shuffle(items: number[], random: () => number): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j] as number, items[i] as number];
  }
}
