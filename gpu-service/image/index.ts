/**
 * The GPU tier's image pipeline: encoded bytes → the CHW float32 tensor openai/CLIP's PIL preprocessing
 * produces. See README.md in this folder for the design and the measured fidelity.
 */

export { ACCEPTED_FORMATS } from "../../src/image-format/index.ts";
export { type PreprocessConfig, PreprocessConfigError, readPreprocessConfig } from "./config.ts";
export {
  DEFAULT_IMAGE_LIMITS,
  IMAGE_ERROR_CODES,
  type ImageError,
  type ImageErrorCode,
  type ImageLimits,
} from "./errors.ts";
export {
  type PreprocessInfo,
  type PreprocessIntoResult,
  type PreprocessOptions,
  type PreprocessResult,
  type PreprocessRgbResult,
  preprocessImage,
  preprocessImageInto,
  preprocessImageRgb,
} from "./pipeline.ts";
export { createPreprocessPool, type PreprocessPool } from "./pool.ts";
