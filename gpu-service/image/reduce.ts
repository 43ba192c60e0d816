/**
 * The fast path for large JPEGs: let libjpeg decode at 1/k scale (shrink-on-load: most of a 12 MP
 * decode's cost is the full-size IDCT, upsampling and colour conversion), then finish with Pillow's
 * bicubic on the small image, corrected for the blur the scaled decode added.
 *
 * Why a correction: a 1/k DCT-scaled decode averages k×k pixels, which Pillow's pipeline never does. To
 * second order, any such prefilter is a blur of known variance, and Pillow's bicubic (a = -0.5) has zero
 * second moment, so adding the same variance back with a 3-tap sharpening on the small image cancels the
 * leading error term. JPEG chroma needs its own variance: a full decode upsamples subsampled chroma with
 * libjpeg's triangle filter, a scaled decode averages chroma samples instead. Measured on 12 MP stripes
 * (the worst of the goldens), the correction takes the k = 2 error from 0.005 to 0.0012 MAE.
 *
 * What it cannot fix is aliasing: for content with energy near the output's Nyquist frequency (noise),
 * the error grows quickly as the remaining factor shrinks, so the plan keeps at least `MIN_REMAINING`
 * of the reduction for the exact resampler.
 *
 * Pure functions on arrays: no I/O.
 */
import type { PreprocessConfig } from "./config.ts";
import type { PreReduce, Probe, Rgb8 } from "./decode.ts";
import type { CropWindow, Size } from "./geometry.ts";
import { computeTaps, PIL_FILTERS, validSpan } from "./resample.ts";

/**
 * Smallest factor left for our resampler after a JPEG decode at 1/k. Measured (bench/preprocess.ts and the
 * tests' corpus): at 3.5 the error against the reference stays ≤ 0.0025 MAE on photo-like content and
 * ≤ 0.0055 on white noise, the worst case; at 2.7 the noise case reaches 0.009.
 */
export const MIN_REMAINING_AFTER_DCT = 3.5;
/**
 * The same after a full decode and libvips' cubic reduce (no DCT scaling): libvips' antialiased cubic has
 * the reference kernel's shape, so only its 8-bit rounding and the two-kernel composite remain.
 */
export const MIN_REMAINING_AFTER_CUBIC = 3;
/** Below this, a libvips pre-reduction saves too little to be worth its extra rounding. */
const MIN_PRE_REDUCTION = 1.5;
/** Above ~4, libvips' resize starts with a box shrink (measured: its impulse response gains variance). */
const MAX_PRE_REDUCTION = 3.5;

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
  /** Sharpening strengths in decoded pixels (a = variance / (2 s²)). */
  aLuma: number;
  aChroma: number;
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
  const s = extent / decodedSize;
  const v = prefilterVariance(k, subsampled);
  return {
    in0: reversed ? decodedSize - span : 0,
    in1: reversed ? decodedSize : span,
    aLuma: v.luma / (2 * s * s),
    aChroma: v.chroma / (2 * s * s),
  };
}

/**
 * Pillow's bicubic resize to `resized` + crop, from an image decoded at reduced scale, with the prefilter
 * correction folded into the weights. Float arithmetic throughout; one rounding at the end.
 */
export function resampleReduced(
  decoded: Rgb8,
  header: Probe,
  resized: Size,
  crop: CropWindow,
  plan: ReducePlan,
): Uint8Array {
  const axes = orientedAxes(header.orientation);
  const sub = chromaSubsampling(header);
  const storedSize = (a: "x" | "y") => (a === "x" ? header.stored.width : header.stored.height);
  const px = axisPlan(storedSize(axes.x.stored), decoded.width, plan.k, axes.x.reversed, sub[axes.x.stored]);
  const py = axisPlan(storedSize(axes.y.stored), decoded.height, plan.k, axes.y.reversed, sub[axes.y.stored]);
  return resampleCorrected(decoded, resized, crop, px, py);
}

/** Whether chroma is subsampled along stored x / y ("4:2:0" both, "4:2:2" x only, "4:4:0" y only). */
function chromaSubsampling(header: Probe): { x: boolean; y: boolean } {
  const s = header.chromaSubsampling ?? "4:4:4";
  if (header.channels === 1) return { x: false, y: false };
  return { x: s === "4:2:0" || s === "4:2:2" || s === "4:1:1", y: s === "4:2:0" || s === "4:4:0" };
}

const LUMA_R = 0.299;
const LUMA_G = 0.587;
const LUMA_B = 0.114;

/**
 * Bicubic weights with the correction x + aC·D(x) + (aY − aC)·D(Y) folded in, where
 * D(x)_i = 2x_i − x_{i−1} − x_{i+1} (edges replicated) and Y is JPEG's luma: `u` weighs each channel,
 * `v` weighs luma.
 */
interface CorrectedTaps {
  first: Int32Array;
  count: Int32Array;
  u: Float64Array;
  v: Float64Array;
  stride: number;
  /** False when luma and chroma get the same correction: `v` is all zero and luma needn't be computed. */
  usesLuma: boolean;
}

function correctedTaps(
  inSize: number,
  p: AxisPlan,
  outSize: number,
  outStart: number,
  outCount: number,
): CorrectedTaps {
  const taps = computeTaps(inSize, p.in0, p.in1, outSize, outStart, outCount, PIL_FILTERS[3]);
  const stride = taps.stride + 2;
  const first = new Int32Array(outCount);
  const count = new Int32Array(outCount);
  const u = new Float64Array(outCount * stride);
  const v = new Float64Array(outCount * stride);
  const dl = p.aLuma - p.aChroma;
  for (let i = 0; i < outCount; i++) {
    const f0 = taps.first[i] as number;
    const n = taps.count[i] as number;
    const lo = Math.max(0, f0 - 1);
    first[i] = lo;
    count[i] = Math.min(inSize, f0 + n + 1) - lo;
    const base = i * stride;
    const add = (arr: Float64Array, at: number, value: number) => {
      arr[base + at] = (arr[base + at] as number) + value;
    };
    for (let t = 0; t < n; t++) {
      const w = taps.weights[i * taps.stride + t] as number;
      const x = f0 + t;
      // Σ w·D(x) = Σ x·Dᵀ(w): D is moved onto the weights.
      const c = x - lo;
      const l = Math.max(0, x - 1) - lo;
      const r = Math.min(inSize - 1, x + 1) - lo;
      add(u, c, w + 2 * p.aChroma * w);
      add(u, l, -p.aChroma * w);
      add(u, r, -p.aChroma * w);
      add(v, c, 2 * dl * w);
      add(v, l, -dl * w);
      add(v, r, -dl * w);
    }
  }
  return { first, count, u, v, stride, usesLuma: dl !== 0 };
}

function resampleCorrected(
  src: Rgb8,
  resized: Size,
  crop: CropWindow,
  px: AxisPlan,
  py: AxisPlan,
): Uint8Array {
  const out = new Uint8Array(crop.width * crop.height * 3);
  const span = validSpan(resized.width, resized.height, crop);
  const vw = span.x1 - span.x0;
  const vh = span.y1 - span.y0;
  if (vw <= 0 || vh <= 0) return out;
  const { data, width: w, height: h } = src;
  const ht = correctedTaps(w, px, resized.width, span.x0, vw);
  const vt = correctedTaps(h, py, resized.height, span.y0, vh);
  const row0 = vt.first[0] as number;
  const rows = (vt.first[vh - 1] as number) + (vt.count[vh - 1] as number) - row0;
  const col0 = ht.first[0] as number;
  const cols = (ht.first[vw - 1] as number) + (ht.count[vw - 1] as number) - col0;

  // Horizontal pass into float rows of 4: R, G, B and their luma (for the vertical correction).
  const tmp = new Float32Array(rows * vw * 4);
  const luma = new Float32Array(cols);
  const { first: hFirst, count: hCount, u: hu, v: hv, stride: hStride, usesLuma: hLuma } = ht;
  for (let r = 0; r < rows; r++) {
    const rowBase = (row0 + r) * w * 3;
    if (hLuma) {
      for (let x = 0, p = rowBase + col0 * 3; x < cols; x++, p += 3) {
        luma[x] =
          LUMA_R * (data[p] as number) + LUMA_G * (data[p + 1] as number) + LUMA_B * (data[p + 2] as number);
      }
    }
    for (let j = 0, o = r * vw * 4; j < vw; j++, o += 4) {
      const n = hCount[j] as number;
      const f = hFirst[j] as number;
      const kb = j * hStride;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      for (let t = 0, p = rowBase + f * 3; t < n; t++, p += 3) {
        const uw = hu[kb + t] as number;
        s0 += (data[p] as number) * uw;
        s1 += (data[p + 1] as number) * uw;
        s2 += (data[p + 2] as number) * uw;
      }
      if (hLuma) {
        let sy = 0;
        for (let t = 0, q = f - col0; t < n; t++, q++) sy += (luma[q] as number) * (hv[kb + t] as number);
        s0 += sy;
        s1 += sy;
        s2 += sy;
      }
      tmp[o] = s0;
      tmp[o + 1] = s1;
      tmp[o + 2] = s2;
      tmp[o + 3] = LUMA_R * s0 + LUMA_G * s1 + LUMA_B * s2;
    }
  }

  // Vertical pass; one rounding at the end, as Pillow's final 8-bit store.
  const acc = new Float64Array(vw * 3);
  const rowLen = vw * 4;
  for (let i = 0; i < vh; i++) {
    acc.fill(0);
    const n = vt.count[i] as number;
    const kb = i * vt.stride;
    const firstRow = (vt.first[i] as number) - row0;
    for (let t = 0; t < n; t++) {
      const uw = vt.u[kb + t] as number;
      const vv = vt.usesLuma ? (vt.v[kb + t] as number) : 0;
      for (let j = 0, q = (firstRow + t) * rowLen, a = 0; j < vw; j++, q += 4, a += 3) {
        const yv = (tmp[q + 3] as number) * vv;
        acc[a] = (acc[a] as number) + (tmp[q] as number) * uw + yv;
        acc[a + 1] = (acc[a + 1] as number) + (tmp[q + 1] as number) * uw + yv;
        acc[a + 2] = (acc[a + 2] as number) + (tmp[q + 2] as number) * uw + yv;
      }
    }
    const dst = ((span.y0 - crop.top + i) * crop.width + (span.x0 - crop.left)) * 3;
    for (let a = 0; a < vw * 3; a++) {
      const v = Math.floor((acc[a] as number) + 0.5);
      out[dst + a] = v < 0 ? 0 : Math.min(v, 255);
    }
  }
  return out;
}
