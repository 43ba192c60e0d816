/**
 * Decision thresholds on one category's similarities. The rule everywhere is "flag when similarity ≥ threshold",
 * and a threshold is always the similarity of a positive example:
 * - observed values only, so examples with equal similarities fall on the same side of every threshold (a tie is
 *   never split), and the precision measured at a threshold is exactly what the stored threshold gives on that data;
 * - positives' values only, because lowering the bar to a negative's similarity adds false positives and no recall.
 *   Without this, "the lowest threshold reaching 90 % precision" on perfectly separated classes would sink below
 *   the last positive until 10 % of the flags were wrong.
 */

/** Counts of one threshold's decisions against the truth. */
export interface Confusion {
  true_positives: number;
  false_positives: number;
  false_negatives: number;
  true_negatives: number;
}

export interface Metrics {
  /** Of the flagged examples, the share that truly belong; 0 when nothing is flagged (flagging nothing is useless). */
  precision: number;
  /** Of the examples that truly belong, the share flagged; 0 when there are none. */
  recall: number;
  /** Harmonic mean of precision and recall; 0 when either is 0. */
  f1: number;
}

/** Which rule chose a threshold: the target precision was reachable, or the best F1 stood in for it. */
export type ThresholdRule = "target_precision" | "best_f1";

export interface ThresholdChoice extends Metrics {
  threshold: number;
  rule: ThresholdRule;
}

/**
 * One candidate threshold and what it flags. Candidates come highest threshold first, one per distinct similarity
 * that some positive example has.
 */
interface Candidate {
  threshold: number;
  truePositives: number;
  falsePositives: number;
}

/**
 * @example confusionAt([0.3, 0.2, 0.1], [true, false, true], 0.2)
 *   // { true_positives: 1, false_positives: 1, false_negatives: 1, true_negatives: 0 }
 */
export function confusionAt(
  similarities: readonly number[],
  labels: readonly boolean[],
  threshold: number,
): Confusion {
  checkSameLength(similarities, labels);
  return confusionOfDecisions(
    similarities.map((similarity) => similarity >= threshold),
    labels,
  );
}

/**
 * Decisions made elsewhere (e.g. each by its own fold's threshold) counted against the truth.
 *
 * @example confusionOfDecisions([true, false], [true, true]).false_negatives === 1
 */
export function confusionOfDecisions(decisions: readonly boolean[], labels: readonly boolean[]): Confusion {
  if (decisions.length !== labels.length)
    throw new RangeError(`${decisions.length} decisions but ${labels.length} labels`);
  const confusion: Confusion = {
    true_positives: 0,
    false_positives: 0,
    false_negatives: 0,
    true_negatives: 0,
  };
  for (let i = 0; i < decisions.length; i++) {
    if (labels[i]) decisions[i] ? confusion.true_positives++ : confusion.false_negatives++;
    else decisions[i] ? confusion.false_positives++ : confusion.true_negatives++;
  }
  return confusion;
}

/** @example metricsOf({ true_positives: 9, false_positives: 1, false_negatives: 3, true_negatives: 7 }).precision === 0.9 */
export function metricsOf(confusion: Confusion): Metrics {
  const { true_positives: tp, false_positives: fp, false_negatives: fn } = confusion;
  return {
    precision: tp + fp === 0 ? 0 : tp / (tp + fp),
    recall: tp + fn === 0 ? 0 : tp / (tp + fn),
    f1: tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn),
  };
}

/**
 * The lowest positive example's similarity at which precision reaches `targetPrecision`, or undefined when none
 * does. Recall only falls as the threshold rises, so this is the best recall the target allows, at the best precision
 * that recall allows. Precision is not monotonic in the threshold: this is the lowest qualifying one, not the edge of
 * a region.
 *
 * @example lowestThresholdForPrecision([0.4, 0.3, 0.2, 0.1], [true, true, false, true], 0.9) === 0.3
 */
export function lowestThresholdForPrecision(
  similarities: readonly number[],
  labels: readonly boolean[],
  targetPrecision: number,
): number | undefined {
  return lowestQualifying(candidatesOf(similarities, labels), targetPrecision)?.threshold;
}

/**
 * The positive example's similarity with the best F1. Among equal F1s the highest threshold wins: with F1 equal and recall no
 * higher, its precision is the highest, which is what a caller who asked for precision wants next.
 *
 * @example bestF1Threshold([0.4, 0.3, 0.2, 0.1], [true, false, true, false]) === 0.2
 */
export function bestF1Threshold(similarities: readonly number[], labels: readonly boolean[]): number {
  const positives = countPositives(labels);
  const best = bestF1(candidatesOf(similarities, labels), positives);
  if (best === undefined) throw new RangeError("bestF1Threshold: no examples");
  return best.threshold;
}

/**
 * The threshold calibration stores: the lowest one reaching the target precision, else the best-F1 one.
 * Needs at least one positive example (without one every threshold has precision and F1 0).
 *
 * @example chooseThreshold([0.4, 0.3, 0.2, 0.1], [true, true, false, true], 0.9)
 *   // { threshold: 0.3, rule: "target_precision", precision: 1, recall: 2/3, f1: 0.8 }
 */
export function chooseThreshold(
  similarities: readonly number[],
  labels: readonly boolean[],
  targetPrecision: number,
): ThresholdChoice {
  const positives = countPositives(labels);
  if (positives === 0) throw new RangeError("chooseThreshold: no positive examples");
  const candidates = candidatesOf(similarities, labels);
  const reached = lowestQualifying(candidates, targetPrecision);
  const chosen = reached ?? (bestF1(candidates, positives) as Candidate);
  return {
    threshold: chosen.threshold,
    rule: reached ? "target_precision" : "best_f1",
    ...metricsOf(confusionOf(chosen, positives, similarities.length)),
  };
}

/** One sweep from the highest similarity down; every example with the current similarity joins the flagged set. */
function candidatesOf(similarities: readonly number[], labels: readonly boolean[]): Candidate[] {
  checkSameLength(similarities, labels);
  const order = similarities
    .map((_, i) => i)
    .sort((i, j) => (similarities[j] as number) - (similarities[i] as number));
  const candidates: Candidate[] = [];
  let truePositives = 0;
  let falsePositives = 0;
  let runHasPositive = false;
  for (let k = 0; k < order.length; k++) {
    const index = order[k] as number;
    if (labels[index]) truePositives++;
    else falsePositives++;
    runHasPositive ||= labels[index] === true;
    const next = order[k + 1];
    // Only once the whole run of equal similarities is in: a threshold cannot separate equal scores.
    if (next === undefined || similarities[next] !== similarities[index]) {
      if (runHasPositive)
        candidates.push({ threshold: similarities[index] as number, truePositives, falsePositives });
      runHasPositive = false;
    }
  }
  return candidates;
}

function lowestQualifying(candidates: readonly Candidate[], targetPrecision: number): Candidate | undefined {
  for (let k = candidates.length - 1; k >= 0; k--) {
    const candidate = candidates[k] as Candidate;
    if (candidate.truePositives / (candidate.truePositives + candidate.falsePositives) >= targetPrecision)
      return candidate;
  }
  return undefined;
}

function bestF1(candidates: readonly Candidate[], positives: number): Candidate | undefined {
  let best: Candidate | undefined;
  for (const candidate of candidates) {
    // F1 = 2TP / (2TP + FP + FN) = 2TP / (TP + FP + positives); compared by cross-multiplying integers, so equal
    // F1s are equal exactly and the tie rule (first, i.e. highest, wins) is not at the mercy of rounding.
    if (
      best === undefined ||
      candidate.truePositives * (best.truePositives + best.falsePositives + positives) >
        best.truePositives * (candidate.truePositives + candidate.falsePositives + positives)
    )
      best = candidate;
  }
  return best;
}

function confusionOf(candidate: Candidate, positives: number, total: number): Confusion {
  return {
    true_positives: candidate.truePositives,
    false_positives: candidate.falsePositives,
    false_negatives: positives - candidate.truePositives,
    true_negatives: total - positives - candidate.falsePositives,
  };
}

function countPositives(labels: readonly boolean[]): number {
  let positives = 0;
  for (const label of labels) if (label) positives++;
  return positives;
}

function checkSameLength(similarities: readonly number[], labels: readonly boolean[]): void {
  if (similarities.length !== labels.length)
    throw new RangeError(`${similarities.length} similarities but ${labels.length} labels`);
}
