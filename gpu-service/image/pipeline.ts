/**
 * Bytes in, model input out: sniff → limits → header probe → decode (sharp, off the event loop) →
 * resize + centre crop (Pillow's arithmetic, crop window only) → normalise into a caller's slot. The one
 * implementation of CLIP's resize-and-crop in the repository: the tiny CLIP's training data is made with it too
 * (bench/support/naive-preprocess.ts is only the naive baseline the benchmarks compare against).
 */

import { type AcceptedFormat, sniffFormat } from "../../src/image-format/index.ts";
import type { PreprocessConfig } from "./config.ts";
import { DecodeError, decodeRgb8, type Probe, probe, type Rgb8 } from "./decode.ts";
import { DEFAULT_IMAGE_LIMITS, type ImageError, type ImageLimits, imageError } from "./errors.ts";
import { type CropWindow, cropWindow, orientedSize, resizedSize, type Size } from "./geometry.ts";
import { declaredSize } from "./header.ts";
import { type ResampleKernels, type ResamplerName, resampleKernels } from "./kernels/index.ts";
import { normalizeTable, writeChw } from "./normalize.ts";
import { planReduce, type ReducePlan, resampleReduced } from "./reduce.ts";
import { PIL_FILTERS, resampleExact } from "./resample.ts";

export interface PreprocessInfo {
  format: AcceptedFormat;
  /** Source size after EXIF orientation. */
  width: number;
  height: number;
  orientation: number;
  /** Size the reference resizes the whole image to, and the window it keeps. */
  resized: Size;
  crop: CropWindow;
  /**
   * "exact": full decode and Pillow's arithmetic, bit for bit. "pre-reduced": full decode, libvips'
   * cubic does part of the reduction. "shrink-on-load": JPEG decoded at 1/k scale, then as pre-reduced.
   */
  path: "exact" | "pre-reduced" | "shrink-on-load";
  /** libjpeg's decode scale denominator on the shrink-on-load path (1 on the exact path). */
  decodeScale: number;
  /** Size handed to our resampler (smaller than the source on the shrink-on-load path). */
  decoded: Size;
  timingsMs: { probe: number; decode: number; resample: number };
}

export interface PreprocessOptions {
  /**
   * Decode at full size even when a JPEG could be decoded at reduced scale: bit-exact with the reference,
   * several times slower on large photos. Default false (see shrink.ts for the error budget).
   */
  exact?: boolean;
  /**
   * The resampler's inner loops: "wasm" (default; WebAssembly SIMD, falling back to "js" where the runtime lacks it)
   * or "js", the reference. The same output bytes either way; "js" is several times slower. For checks and benchmarks.
   */
  resampler?: ResamplerName;
}

export type PreprocessResult = { ok: true; pixels: Float32Array; info: PreprocessInfo } | ImageError;
export type PreprocessIntoResult = { ok: true; info: PreprocessInfo } | ImageError;
/** 8-bit RGB, HWC, `info.crop.width × info.crop.height × 3` bytes: the model's pixels before normalisation. */
export type PreprocessRgbResult = { ok: true; rgb: Uint8Array; info: PreprocessInfo } | ImageError;

// The normalisation table depends only on the config; configs are long-lived, so cache per object.
const tables = new WeakMap<PreprocessConfig, Float32Array>();
function tableFor(config: PreprocessConfig): Float32Array {
  let t = tables.get(config);
  if (!t) {
    t = normalizeTable(config);
    tables.set(config, t);
  }
  return t;
}

function checkLimits(limits: ImageLimits): void {
  if (!(limits.maxBytes > 0) || !(limits.maxPixels > 0)) {
    throw new RangeError(`image limits must be positive, got ${JSON.stringify(limits)}`);
  }
}

/**
 * The pipeline up to the model's pixels: sniff, limits, decode, resize and centre crop, as 8-bit RGB (HWC,
 * `info.crop.width × info.crop.height × 3` bytes) before normalisation. Serving normalises it into the batch
 * tensor (`preprocessImageInto`); the tiny CLIP's training data is made from it, so the model learns from the
 * very pixels it is served. Errors are returned, never thrown.
 *
 * @example
 * const r = await preprocessImageRgb(bytes, cfg);
 * if (r.ok) sharp(r.rgb, { raw: { width: r.info.crop.width, height: r.info.crop.height, channels: 3 } }).png();
 */
export async function preprocessImageRgb(
  bytes: Uint8Array,
  config: PreprocessConfig,
  limits: ImageLimits = DEFAULT_IMAGE_LIMITS,
  options: PreprocessOptions = {},
): Promise<PreprocessRgbResult> {
  checkLimits(limits);
  if (bytes.length === 0) return imageError("invalid_image", "empty input (0 bytes)");
  if (bytes.length > limits.maxBytes) {
    return imageError("image_too_large", `${bytes.length} bytes exceeds the limit of ${limits.maxBytes}`);
  }
  const sniffed = sniffFormat(bytes);
  if (sniffed.kind === "unsupported") {
    return imageError("unsupported_format", `${sniffed.format} is not an accepted image format`);
  }
  if (sniffed.kind === "unknown") return imageError("invalid_image", "not a recognised image format");

  const declared = declaredSize(bytes, sniffed.format);
  if (declared && declared.width * declared.height > limits.maxPixels) {
    return imageError(
      "image_too_large",
      `header declares ${declared.width}x${declared.height}, over the limit of ${limits.maxPixels} pixels`,
    );
  }

  try {
    const t0 = performance.now();
    const header = await probe(bytes, sniffed.format, limits);
    const source = orientedSize(header.stored, header.orientation);
    if (source.width * source.height > limits.maxPixels) {
      return imageError(
        "image_too_large",
        `${source.width}x${source.height} exceeds the limit of ${limits.maxPixels} pixels`,
      );
    }
    const resized = resizedSize(source, config);
    const crop = cropWindow(resized, config);
    const plan = options.exact ? null : planReduce(header, source, resized, config);
    const t1 = performance.now();
    const decoded = await decodeRgb8(bytes, header, limits, plan?.decode);
    const t2 = performance.now();
    const kernels = resampleKernels(options.resampler);
    const rgb = resampleDecoded(decoded, header, source, resized, crop, config, plan, kernels);
    const t3 = performance.now();
    return {
      ok: true,
      rgb,
      info: {
        format: sniffed.format,
        width: source.width,
        height: source.height,
        orientation: header.orientation,
        resized,
        crop,
        path: plan === null ? "exact" : plan.k === 1 ? "pre-reduced" : "shrink-on-load",
        decodeScale: plan?.k ?? 1,
        decoded: { width: decoded.width, height: decoded.height },
        timingsMs: { probe: t1 - t0, decode: t2 - t1, resample: t3 - t2 },
      },
    };
  } catch (err) {
    if (err instanceof DecodeError) return imageError(err.code, err.message);
    throw err;
  }
}

/**
 * Preprocesses one encoded image into `out[offset .. offset + 3*H*W)` (CHW float32). On failure the slot
 * is left untouched and the error is returned, never thrown.
 *
 * @example
 * const batch = new Float32Array(images.length * 3 * 224 * 224);
 * const results = await Promise.all(images.map((b, i) => preprocessImageInto(b, cfg, batch, i * 3 * 224 * 224)));
 */
export async function preprocessImageInto(
  bytes: Uint8Array,
  config: PreprocessConfig,
  out: Float32Array,
  offset: number,
  limits: ImageLimits = DEFAULT_IMAGE_LIMITS,
  options: PreprocessOptions = {},
): Promise<PreprocessIntoResult> {
  checkLimits(limits);
  const size = 3 * config.outputWidth * config.outputHeight;
  if (!Number.isInteger(offset) || offset < 0 || offset + size > out.length) {
    throw new RangeError(`slot [${offset}, ${offset + size}) does not fit a tensor of ${out.length} floats`);
  }
  const r = await preprocessImageRgb(bytes, config, limits, options);
  if (!r.ok) return r;
  const t = performance.now();
  writeChw(r.rgb, r.info.crop.width, r.info.crop.height, tableFor(config), out, offset);
  // Normalising is part of the resample stage's time, as it always was.
  r.info.timingsMs.resample += performance.now() - t;
  return { ok: true, info: r.info };
}

function resampleDecoded(
  decoded: Rgb8,
  header: Probe,
  source: Size,
  resized: Size,
  crop: CropWindow,
  config: PreprocessConfig,
  plan: ReducePlan | null,
  kernels: ResampleKernels,
): Uint8Array {
  if (plan) return resampleReduced(decoded, header, resized, crop, plan, kernels);
  if (decoded.width !== source.width || decoded.height !== source.height) {
    // A header that disagrees with its own pixel data: a malformed file, not our bug.
    throw new DecodeError(
      "invalid_image",
      `decoded ${decoded.width}x${decoded.height}, but the header says ${source.width}x${source.height}`,
    );
  }
  return resampleExact(
    decoded.data,
    decoded.width,
    decoded.height,
    resized.width,
    resized.height,
    crop,
    PIL_FILTERS[config.resample],
    kernels,
  );
}

/**
 * Preprocesses one encoded image into a new CHW float32 tensor [3, H, W].
 *
 * @example
 * const r = await preprocessImage(bytes, cfg);
 * if (r.ok) session.run({ pixel_values: new ort.Tensor("float32", r.pixels, [1, 3, 224, 224]) });
 * else reply(400, { code: r.code, message: r.message });
 */
export async function preprocessImage(
  bytes: Uint8Array,
  config: PreprocessConfig,
  limits: ImageLimits = DEFAULT_IMAGE_LIMITS,
  options: PreprocessOptions = {},
): Promise<PreprocessResult> {
  const pixels = new Float32Array(3 * config.outputWidth * config.outputHeight);
  const r = await preprocessImageInto(bytes, config, pixels, 0, limits, options);
  return r.ok ? { ok: true, pixels, info: r.info } : r;
}
