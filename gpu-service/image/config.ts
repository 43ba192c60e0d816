/**
 * The model's preprocessing parameters, read from a Hugging Face `preprocessor_config.json`
 * (CLIPImageProcessor fields). Nothing about CLIP is hard-coded here: a model trained with other
 * sizes, means or filters gets them from its own config.
 */

/** PIL's resampling filters by their enum value, as Hugging Face stores them in `resample`. */
export type PilResample = 1 | 2 | 3 | 4 | 5;
export const PIL_RESAMPLE_NAMES: Record<PilResample, string> = {
  1: "lanczos",
  2: "bilinear",
  3: "bicubic",
  4: "box",
  5: "hamming",
};

export type ResizeRule =
  /** Shortest side to `size`, the other `int(size * long / short)` (torchvision's `Resize(int)`). */
  | { kind: "shortest_edge"; size: number }
  /** Exactly `width` × `height`, ignoring the aspect ratio. */
  | { kind: "exact"; width: number; height: number };

export interface PreprocessConfig {
  /** `null` when `do_resize` is false. */
  resize: ResizeRule | null;
  resample: PilResample;
  /** Centre crop (torchvision's CenterCrop: offsets rounded half to even, zero padding); `null` when off. */
  crop: { width: number; height: number } | null;
  /** Multiplier applied to 0..255 values (`rescale_factor`, or 1 when `do_rescale` is false). */
  rescaleFactor: number;
  /** Per-channel RGB mean and std; `null` when `do_normalize` is false. */
  normalize: { mean: readonly [number, number, number]; std: readonly [number, number, number] } | null;
  /** Size of every tensor this config produces: [3, height, width]. */
  outputWidth: number;
  outputHeight: number;
}

/** Thrown for a config the pipeline cannot honour; config is read once at start-up, so a throw is right. */
export class PreprocessConfigError extends Error {
  override name = "PreprocessConfigError";
}

type Json = Record<string, unknown>;

function fail(field: string, problem: string): never {
  throw new PreprocessConfigError(`preprocessor_config.json: ${field} ${problem}`);
}

function positiveInt(value: unknown, field: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > 8192) {
    fail(field, `must be an integer in 1..8192, got ${JSON.stringify(value)}`);
  }
  return value;
}

function bool(obj: Json, field: string, fallback: boolean): boolean {
  const value = obj[field];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== "boolean") fail(field, `must be a boolean, got ${JSON.stringify(value)}`);
  return value;
}

function triple(value: unknown, field: string, positive: boolean): readonly [number, number, number] {
  if (typeof value === "number") value = [value, value, value];
  if (
    !Array.isArray(value) ||
    value.length !== 3 ||
    !value.every((v) => typeof v === "number" && Number.isFinite(v) && (!positive || v > 0))
  ) {
    fail(field, `must be 3 ${positive ? "positive " : ""}numbers (RGB), got ${JSON.stringify(value)}`);
  }
  return [value[0], value[1], value[2]] as const;
}

function readResize(obj: Json): ResizeRule {
  const size = obj.size;
  if (typeof size === "number") return { kind: "shortest_edge", size: positiveInt(size, "size") };
  if (typeof size !== "object" || size === null) fail("size", "is missing");
  const s = size as Json;
  if (s.shortest_edge !== undefined) {
    if (s.longest_edge !== undefined && s.longest_edge !== null) {
      fail("size.longest_edge", "is not supported (openai/CLIP never caps the long side)");
    }
    return { kind: "shortest_edge", size: positiveInt(s.shortest_edge, "size.shortest_edge") };
  }
  if (s.height !== undefined || s.width !== undefined) {
    return {
      kind: "exact",
      width: positiveInt(s.width, "size.width"),
      height: positiveInt(s.height, "size.height"),
    };
  }
  fail("size", `needs shortest_edge or height and width, got ${JSON.stringify(size)}`);
}

function readCrop(value: unknown): { width: number; height: number } {
  if (typeof value === "number") {
    const n = positiveInt(value, "crop_size");
    return { width: n, height: n };
  }
  if (typeof value !== "object" || value === null) fail("crop_size", "is missing");
  const c = value as Json;
  return {
    width: positiveInt(c.width, "crop_size.width"),
    height: positiveInt(c.height, "crop_size.height"),
  };
}

/**
 * Validates a parsed `preprocessor_config.json` and returns the normalised parameters.
 *
 * @example
 * readPreprocessConfig({ size: { shortest_edge: 224 }, resample: 3, crop_size: 224, do_center_crop: true,
 *   rescale_factor: 1 / 255, image_mean: [0.48145466, 0.4578275, 0.40821073],
 *   image_std: [0.26862954, 0.26130258, 0.27577711] }).outputWidth // 224
 * @throws PreprocessConfigError naming the offending field.
 */
export function readPreprocessConfig(json: unknown): PreprocessConfig {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new PreprocessConfigError("preprocessor_config.json: must be a JSON object");
  }
  const obj = json as Json;

  const resize = bool(obj, "do_resize", true) ? readResize(obj) : null;

  const resample = obj.resample ?? 3;
  if (resample === 0) fail("resample", "0 (nearest) is not supported; CLIP uses 3 (bicubic)");
  if (typeof resample !== "number" || !(resample in PIL_RESAMPLE_NAMES)) {
    fail("resample", `must be a PIL filter 1..5, got ${JSON.stringify(resample)}`);
  }

  const crop = bool(obj, "do_center_crop", obj.crop_size !== undefined) ? readCrop(obj.crop_size) : null;

  let rescaleFactor = 1;
  if (bool(obj, "do_rescale", true)) {
    const f = obj.rescale_factor ?? 1 / 255;
    if (typeof f !== "number" || !Number.isFinite(f) || f <= 0) {
      fail("rescale_factor", `must be a positive number, got ${JSON.stringify(f)}`);
    }
    rescaleFactor = f;
  }

  const normalize = bool(obj, "do_normalize", true)
    ? { mean: triple(obj.image_mean, "image_mean", false), std: triple(obj.image_std, "image_std", true) }
    : null;

  if (obj.do_convert_rgb === false) {
    fail("do_convert_rgb", "false is not supported: the model takes 3-channel RGB");
  }

  let outputWidth: number;
  let outputHeight: number;
  if (crop) {
    outputWidth = crop.width;
    outputHeight = crop.height;
  } else if (resize?.kind === "exact") {
    outputWidth = resize.width;
    outputHeight = resize.height;
  } else {
    fail("do_center_crop", "must be true unless size is an exact height and width: batches need one size");
  }

  return {
    resize,
    resample: resample as PilResample,
    crop,
    rescaleFactor,
    normalize,
    outputWidth,
    outputHeight,
  };
}
