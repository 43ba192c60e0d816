/**
 * Calibration for moderation: from a customer's labelled examples, per category a threshold on the raw similarity,
 * a Platt mapping to a probability, and cross-validated precision, recall and F1. Pure, deterministic, runtime-agnostic.
 */
export {
  type CalibratedCategory,
  type CalibrationFailure,
  type CalibrationOptions,
  type CategoryCalibration,
  calibrateCategory,
  calibratePolicy,
  DEFAULT_CALIBRATION_OPTIONS,
  type LabelledExample,
  MIN_EXAMPLES_PER_CLASS,
  type UncalibratedCategory,
} from "./calibrate.ts";
export {
  type FoldModel,
  foldCount,
  mulberry32,
  type OutOfFold,
  outOfFold,
  stratifiedFolds,
} from "./cross-validation.ts";
export { fitPlatt, type PlattMapping, plattProbability } from "./platt.ts";
export {
  bestF1Threshold,
  type Confusion,
  chooseThreshold,
  confusionAt,
  confusionOfDecisions,
  lowestThresholdForPrecision,
  type Metrics,
  metricsOf,
  type ThresholdChoice,
  type ThresholdRule,
} from "./thresholds.ts";
