/**
 * Platt scaling: a similarity becomes a probability through p = 1 / (1 + exp(-(a·s + b))), a one-dimensional
 * logistic regression fitted by Newton's method (Platt 1999, with the safeguards of Lin, Lin & Weng 2007, "A note on
 * Platt's probabilistic outputs for support vector machines").
 *
 * Why it never diverges, even on perfectly separable data:
 * - Platt's smoothed targets, (N₊ + 1)/(N₊ + 2) for positives and 1/(N₋ + 2) for negatives, are never 0 or 1, so the
 *   loss has a finite minimum (plain 0/1 targets on separable data push `a` to infinity).
 * - The fit runs on standardised similarities, so the Newton system is well conditioned whatever the similarities'
 *   spread (CLIP similarities sit in a narrow band, typically 0.1–0.4); a and b are mapped back at the end.
 * - A tiny ridge on the Hessian keeps it invertible where the sigmoid saturates, a backtracking line search accepts
 *   only steps that lower the loss, and the iterations are capped.
 * When every similarity is the same there is no slope to fit: a = 0 and b gives the smoothed base rate.
 * Everything is deterministic: same input, same mapping.
 */

export interface PlattMapping {
  /** Slope on the raw similarity; positive when higher similarity means more likely to belong. */
  a: number;
  b: number;
}

const MAX_ITERATIONS = 100;
/** Lin et al.'s stopping rule on the gradient, here per example so it does not tighten as sets grow. */
const GRADIENT_TOLERANCE = 1e-9;
const HESSIAN_RIDGE = 1e-12;
const MIN_STEP = 1e-10;
/** Armijo condition: a step must lower the loss by at least this share of what the gradient predicts. */
const SUFFICIENT_DECREASE = 1e-4;

/** @example plattProbability({ a: 20, b: -5 }, 0.25) === 0.5 */
export function plattProbability(mapping: PlattMapping, similarity: number): number {
  return sigmoid(mapping.a * similarity + mapping.b);
}

/**
 * Fits the mapping on one category's labelled similarities; needs at least one positive and one negative.
 *
 * @example
 * const mapping = fitPlatt([0.35, 0.3, 0.12, 0.1], [true, true, false, false]);
 * plattProbability(mapping, 0.35) > 0.5 && plattProbability(mapping, 0.1) < 0.5 // true
 */
export function fitPlatt(similarities: readonly number[], labels: readonly boolean[]): PlattMapping {
  if (similarities.length !== labels.length)
    throw new RangeError(`${similarities.length} similarities but ${labels.length} labels`);
  const positives = labels.filter(Boolean).length;
  const negatives = labels.length - positives;
  if (positives === 0 || negatives === 0)
    throw new RangeError("fitPlatt: needs positive and negative examples");

  const positiveTarget = (positives + 1) / (positives + 2);
  const negativeTarget = 1 / (negatives + 2);
  const targets = labels.map((label) => (label ? positiveTarget : negativeTarget));

  const n = similarities.length;
  // Compared exactly: the mean of equal values can differ from them by rounding, which would fake a tiny spread.
  if (similarities.every((s) => s === similarities[0])) {
    // The loss minimiser for a constant input: the mean target, as log-odds.
    const baseRate = targets.reduce((sum, t) => sum + t, 0) / n;
    return { a: 0, b: Math.log(baseRate / (1 - baseRate)) };
  }
  const mean = similarities.reduce((sum, s) => sum + s, 0) / n;
  const spread = Math.sqrt(similarities.reduce((sum, s) => sum + (s - mean) ** 2, 0) / n);
  const x = similarities.map((s) => (s - mean) / spread);
  const { slope, intercept } = newton(x, targets, Math.log((positives + 1) / (negatives + 1)));
  // a·s + b = slope·(s − mean)/spread + intercept.
  return { a: slope / spread, b: intercept - (slope * mean) / spread };
}

function newton(
  x: readonly number[],
  targets: readonly number[],
  initialIntercept: number,
): { slope: number; intercept: number } {
  let slope = 0;
  let intercept = initialIntercept;
  let value = loss(x, targets, slope, intercept);
  for (let iteration = 0; iteration < MAX_ITERATIONS; iteration++) {
    let gradSlope = 0;
    let gradIntercept = 0;
    let hSlopeSlope = HESSIAN_RIDGE;
    let hSlopeIntercept = 0;
    let hInterceptIntercept = HESSIAN_RIDGE;
    for (let i = 0; i < x.length; i++) {
      const xi = x[i] as number;
      const p = sigmoid(slope * xi + intercept);
      const residual = p - (targets[i] as number);
      const weight = p * (1 - p);
      gradSlope += xi * residual;
      gradIntercept += residual;
      hSlopeSlope += weight * xi * xi;
      hSlopeIntercept += weight * xi;
      hInterceptIntercept += weight;
    }
    if (Math.max(Math.abs(gradSlope), Math.abs(gradIntercept)) < GRADIENT_TOLERANCE * x.length) break;

    const determinant = hSlopeSlope * hInterceptIntercept - hSlopeIntercept * hSlopeIntercept;
    const stepSlope = -(hInterceptIntercept * gradSlope - hSlopeIntercept * gradIntercept) / determinant;
    const stepIntercept = -(-hSlopeIntercept * gradSlope + hSlopeSlope * gradIntercept) / determinant;
    const predictedDecrease = gradSlope * stepSlope + gradIntercept * stepIntercept;

    let step = 1;
    let accepted = false;
    while (step >= MIN_STEP) {
      const nextSlope = slope + step * stepSlope;
      const nextIntercept = intercept + step * stepIntercept;
      const nextValue = loss(x, targets, nextSlope, nextIntercept);
      if (nextValue < value + SUFFICIENT_DECREASE * step * predictedDecrease) {
        slope = nextSlope;
        intercept = nextIntercept;
        value = nextValue;
        accepted = true;
        break;
      }
      step /= 2;
    }
    // No step lowers the loss any more: we are at the minimum as closely as floating point can tell.
    if (!accepted) break;
  }
  return { slope, intercept };
}

/** Cross-entropy against the soft targets, written so that large |z| neither overflows nor loses precision. */
function loss(x: readonly number[], targets: readonly number[], slope: number, intercept: number): number {
  let total = 0;
  for (let i = 0; i < x.length; i++) {
    const z = slope * (x[i] as number) + intercept;
    total += Math.log1p(Math.exp(-Math.abs(z))) + Math.max(z, 0) - (targets[i] as number) * z;
  }
  return total;
}

function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}
