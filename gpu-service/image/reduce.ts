/**
 * Letting libvips do part of the reduction, for speed, without losing the reference's arithmetic where it
 * matters. Two fast paths, both finishing with Pillow's bicubic (our resampler) for the last factor ≥ 3:
 *
 * - pre-reduced: full decode, then libvips' cubic reduce (antialiased, the reference kernel's shape, so
 *   only its 8-bit rounding and the two-kernel composite differ).
 * - shrink-on-load (JPEG): libjpeg decodes at 1/k — most of a 12 MP decode's cost is the full-size IDCT,
 *   upsampling and colour conversion — and libvips finishes the step to a (k+1)× shrink.
 *
 * A 1/k scaled decode averages k pixels along each axis, which the reference never does. To second order
 * any such prefilter is a blur of known variance, and Pillow's bicubic (a = -0.5) has zero second moment,
 * so sharpening by the same variance (a 3-tap filter, applied on the output grid) cancels the leading
 * error term. JPEG chroma needs its own variance: a full decode upsamples subsampled
 * chroma with libjpeg's triangle filter, a scaled decode averages chroma samples instead. Measured on
 * the 12 MP stripes golden (large-photo.jpg): 0.0042 MAE uncorrected, 0.0021 corrected; on an 8 MP
 * version 0.0073 → 0.0026.
 *
 * What it cannot fix is aliasing: for white noise the error grows quickly as the remaining factor
 * shrinks (0.005 at 3.5, 0.009 at 2.7), so the plan leaves at least MIN_REMAINING_AFTER_DCT.
 *
 * Pure functions on arrays: no I/O.
 */
import type { PreprocessConfig } from "./config.ts";
import type { PreReduce, Probe, Rgb8 } from "./decode.ts";
import type { CropWindow, Size } from "./geometry.ts";
import { placeRows, type ResampleKernels, resampleKernels } from "./kernels/index.ts";
import { computeTaps, PIL_FILTERS, validSpan } from "./resample.ts";

/**
 * Smallest factor left for our resampler after a JPEG decode at 1/k. Measured against the PIL reference
 * on stripes, textures, waves and white noise from 1 to 24 MP: at 3.5 the error stays ≤ 0.0025 MAE on
 * photo-like content and ≤ 0.0055 on white noise, the worst case; at 2.7 the noise case reaches 0.009.
 */
export const MIN_REMAINING_AFTER_DCT = 3.5;
/** The same after a full decode and libvips' cubic reduce: ≤ 0.0025 at 3 (0.0045 at 2.5) on the same set. */
export const MIN_REMAINING_AFTER_CUBIC = 3;
/** Below this, a libvips pre-reduction saves too little to be worth its extra rounding. */
const MIN_PRE_REDUCTION = 1.5;
/** Above ~4, libvips' resize starts with a box shrink (measured: its impulse response gains variance). */
const MAX_PRE_REDUCTION = 3.5;
/**
 * Below this whole factor a full decode goes straight to our resampler, bit-exact, without libvips' cubic first.
 * With the resampler's loops in WebAssembly, the pre-reduction costs more than it saves on small photos: measured
 * per image on shapes-world JPEGs (CPU ms, pre-reduced → exact) 26.6 → 23.5 at 2 MP (factor 5.2), 35.5 → 28.9 at
 * 3 MP (6.3), 40.6 → 42.4 at 5 MP (7.1), 54.0 → 62.3 at 8 MP (10.3). 8 keeps every photo up to ~5.5 MP exact for
 * at most ~2 ms more than the cheapest path.
 */
export const MIN_FACTOR_FOR_PRE_REDUCTION = 8;

export interface ReducePlan {
  /** libjpeg's scale denominator: the image is decoded at 1/k (1: full size). */
  k: number;
  /** What sharp is asked for (oriented coordinates); libvips finishes with a cubic reduce. */
  decode: PreReduce;
}

/**
 * Decides whether libvips may do part of the reduction before our resampler. sharp picks libjpeg's 1/k
 * from the requested size: k = 8 for a shrink ≥ 9, 4 for [5, 8), 2 for [3, 4) (it halves k when the
 * shrink's integer part equals k), so we request k + 1 times smaller to get the k we want.
 */
export function planReduce(
  header: Probe,
  source: Size,
  resized: Size,
  config: PreprocessConfig,
): ReducePlan | null {
  // The correction assumes Pillow's bicubic; alpha would be premultiplied by libvips' resize, and CMYK
  // and 16-bit grey must be converted PIL's way before any resampling.
  if (config.resample !== 3 || header.hasAlpha || header.depth !== "uchar" || header.space === "cmyk")
    return null;
  // GIF and AVIF get PIL-compatibility fixes on the full-size decode (gif.ts, avif.ts).
  if (header.format === "gif" || header.format === "avif") return null;
  const factor = Math.min(source.width / resized.width, source.height / resized.height);
  if (header.format === "jpeg" && dctScalingModelled(header)) {
    for (const k of [8, 4, 2]) {
      // The shrinks for which sharp picks this k; within them, leave exactly MIN_REMAINING_AFTER_DCT.
      const lo = k + 1;
      const hi = k === 2 ? 4 : 2 * k;
      const s = Math.min(factor / MIN_REMAINING_AFTER_DCT, hi - 0.01);
      if (s < lo) continue;
      const target = { width: Math.round(source.width / s), height: Math.round(source.height / s) };
      if (target.width < 1 || target.height < 1) continue;
      const shrink = Math.min(source.width / target.width, source.height / target.height);
      if (shrink >= lo && shrink < hi && factor / shrink >= 0.98 * MIN_REMAINING_AFTER_DCT) {
        return { k, decode: { target, shrinkOnLoad: true } };
      }
    }
  }
  if (factor < MIN_FACTOR_FOR_PRE_REDUCTION) return null;
  const pre = Math.min(factor / MIN_REMAINING_AFTER_CUBIC, MAX_PRE_REDUCTION);
  if (pre < MIN_PRE_REDUCTION) return null;
  const target = { width: Math.floor(source.width / pre), height: Math.floor(source.height / pre) };
  return { k: 1, decode: { target, shrinkOnLoad: false } };
}

/** libjpeg upsamples 4:2:2 / 4:4:0 / 4:1:1 chroma after a scaled decode, a blur this model doesn't cover. */
function dctScalingModelled(header: Probe): boolean {
  if (header.channels === 1) return true;
  return header.chromaSubsampling === "4:2:0" || header.chromaSubsampling === "4:4:4";
}

/** Blur variance (in full-size pixels²) the scaled decode added along one axis, beyond the reference's. */
export function prefilterVariance(k: number, chromaSubsampled: boolean): { luma: number; chroma: number } {
  // A full decode is the reference's own input; libvips' cubic adds no second moment.
  if (k === 1) return { luma: 0, chroma: 0 };
  // 1/k IDCT ≈ mean of k neighbours: variance (k² - 1) / 12.
  const luma = (k * k - 1) / 12;
  // Subsampled chroma: mean of k/2 samples 2 px apart, (k² - 4) / 12, minus the variance of the triangle
  // upsampler a full decode applies, 2/3.
  const chroma = chromaSubsampled ? (k * k - 12) / 12 : luma;
  return { luma, chroma };
}

/** Which stored axis (x or y) each oriented axis comes from, and whether it runs backwards. */
function orientedAxes(orientation: number): {
  x: { stored: "x" | "y"; reversed: boolean };
  y: { stored: "x" | "y"; reversed: boolean };
} {
  switch (orientation) {
    case 2:
      return { x: { stored: "x", reversed: true }, y: { stored: "y", reversed: false } };
    case 3:
      return { x: { stored: "x", reversed: true }, y: { stored: "y", reversed: true } };
    case 4:
      return { x: { stored: "x", reversed: false }, y: { stored: "y", reversed: true } };
    case 5:
      return { x: { stored: "y", reversed: false }, y: { stored: "x", reversed: false } };
    case 6:
      return { x: { stored: "y", reversed: true }, y: { stored: "x", reversed: false } };
    case 7:
      return { x: { stored: "y", reversed: true }, y: { stored: "x", reversed: true } };
    case 8:
      return { x: { stored: "y", reversed: false }, y: { stored: "x", reversed: true } };
    default:
      return { x: { stored: "x", reversed: false }, y: { stored: "y", reversed: false } };
  }
}

interface AxisPlan {
  /** Source interval (Pillow's box) in decoded pixels that corresponds to the full image. */
  in0: number;
  in1: number;
  /** Blur the scaled decode added, luma and chroma, in full-size pixels² (0 when k = 1). */
  lumaVariance: number;
  chromaVariance: number;
}

function axisPlan(
  storedSize: number,
  decodedSize: number,
  k: number,
  reversed: boolean,
  subsampled: boolean,
): AxisPlan {
  // libvips' shrink-on-load keeps floor(n / k) pixels, dropping a partial last one, so the decoded image
  // covers k * floor(n / k) source pixels and the full image reaches a little past its end. Orientation
  // may put that end at the start.
  const extent = k === 1 ? storedSize : Math.floor(storedSize / k) * k;
  const span = (storedSize / extent) * decodedSize;
  const v = prefilterVariance(k, subsampled);
  return {
    in0: reversed ? decodedSize - span : 0,
    in1: reversed ? decodedSize : span,
    lumaVariance: v.luma,
    chromaVariance: v.chroma,
  };
}

/**
 * Pillow's bicubic resize to `resized` + crop from a pre-reduced image, in float, then the prefilter
 * correction and one rounding. The correction runs on the output grid: to second order a 3-tap filter
 * there equals one on the decoded grid (measured: the same MAE within ±0.0004 on the corpus), and it
 * costs 224² pixels instead of a luma term in every tap of the resampler. `kernels` runs the two passes
 * (WebAssembly by default; `resampleKernels("js")` is the reference).
 */
export function resampleReduced(
  decoded: Rgb8,
  header: Probe,
  resized: Size,
  crop: CropWindow,
  plan: ReducePlan,
  kernels: ResampleKernels = resampleKernels(),
): Uint8Array {
  const axes = orientedAxes(header.orientation);
  const sub = chromaSubsampling(header);
  const storedSize = (a: "x" | "y") => (a === "x" ? header.stored.width : header.stored.height);
  const sx = storedSize(axes.x.stored);
  const sy = storedSize(axes.y.stored);
  const px = axisPlan(sx, decoded.width, plan.k, axes.x.reversed, sub[axes.x.stored]);
  const py = axisPlan(sy, decoded.height, plan.k, axes.y.reversed, sub[axes.y.stored]);
  const out = resampleFloat(decoded, resized, crop, px, py, kernels);
  const span = validSpan(resized.width, resized.height, crop);
  // A 3-tap [-a, 1+2a, -a] on a grid of spacing f has second moment -2af²: cancel the variance with it. On the
  // span, x then y, with luma and chroma strengths of their own: x + aC·D(x) + (aY − aC)·D(Y), where D(x)_i =
  // 2x_i − x_{i−1} − x_{i+1} (edges replicated) and Y is JPEG's luma.
  const fx = sx / resized.width;
  const fy = sy / resized.height;
  return kernels.finish({
    image: out,
    width: crop.width,
    span: {
      x0: span.x0 - crop.left,
      x1: span.x1 - crop.left,
      y0: span.y0 - crop.top,
      y1: span.y1 - crop.top,
    },
    x: { luma: px.lumaVariance / (2 * fx * fx), chroma: px.chromaVariance / (2 * fx * fx) },
    y: { luma: py.lumaVariance / (2 * fy * fy), chroma: py.chromaVariance / (2 * fy * fy) },
  });
}

/** Whether chroma is subsampled along stored x / y ("4:2:0" both, "4:2:2" x only, "4:4:0" y only). */
function chromaSubsampling(header: Probe): { x: boolean; y: boolean } {
  const s = header.chromaSubsampling ?? "4:4:4";
  if (header.channels === 1) return { x: false, y: false };
  return { x: s === "4:2:0" || s === "4:2:2" || s === "4:1:1", y: s === "4:2:0" || s === "4:4:0" };
}

/** Pillow's bicubic weights and pass order, in float64 (the rows between the passes held in float32). */
function resampleFloat(
  src: Rgb8,
  resized: Size,
  crop: CropWindow,
  px: AxisPlan,
  py: AxisPlan,
  kernels: ResampleKernels,
): Float32Array {
  const out = new Float32Array(crop.width * crop.height * 3);
  const span = validSpan(resized.width, resized.height, crop);
  const vw = span.x1 - span.x0;
  const vh = span.y1 - span.y0;
  if (vw <= 0 || vh <= 0) return out;
  const { data, width: w, height: h } = src;
  const ht = computeTaps(w, px.in0, px.in1, resized.width, span.x0, vw, PIL_FILTERS[3]);
  const vt = computeTaps(h, py.in0, py.in1, resized.height, span.y0, vh, PIL_FILTERS[3]);
  const rowFirst = vt.first[0] as number;
  const rowEnd = (vt.first[vh - 1] as number) + (vt.count[vh - 1] as number);
  const rows = kernels.float({
    src: data,
    srcW: w,
    rowFirst,
    rows: rowEnd - rowFirst,
    horizontal: ht,
    vertical: vt,
  });
  const outRowLen = crop.width * 3;
  placeRows(rows, vh, vw * 3, out, (span.y0 - crop.top) * outRowLen + (span.x0 - crop.left) * 3, outRowLen);
  return out;
}
