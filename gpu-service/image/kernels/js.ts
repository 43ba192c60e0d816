/**
 * The resampler's inner loops in JavaScript: the reference the WebAssembly kernels (wasm.ts) must equal byte for byte,
 * and the fallback where a runtime cannot run them. Pillow's arithmetic, in Pillow's order.
 */
import type { Taps, ValidSpan } from "../resample.ts";
import type { ExactJob, FinishJob, FloatJob, ResampleKernels, Rows } from "./types.ts";

/** Pillow's fixed point for 8-bit images: weights carry 22 fractional bits. */
export const PRECISION_BITS = 22;
const HALF = 1 << (PRECISION_BITS - 1);

/** Pillow's `clip8`: drop the fraction (the accumulator started at one half), saturate to 0..255. */
function clip8(acc: number): number {
  const v = acc >> PRECISION_BITS;
  return v < 0 ? 0 : Math.min(v, 255);
}

export const jsKernels: ResampleKernels = {
  name: "js",
  exact: exactJs,
  float: floatJs,
  finish: finishJs,
};

function exactJs(job: ExactJob): Rows<Uint8Array> {
  const { src, srcW, rowFirst, rows, colFirst, cols, horizontal, vertical } = job;
  const rowLen = cols * 3;
  const tmp = new Uint8Array(rows * rowLen);
  if (horizontal) {
    horizontalPass(src, srcW, rowFirst, rows, horizontal.taps, horizontal.weights, tmp);
  } else {
    for (let r = 0; r < rows; r++) {
      const s = ((rowFirst + r) * srcW + colFirst) * 3;
      tmp.set(src.subarray(s, s + rowLen), r * rowLen);
    }
  }
  if (!vertical) return { data: tmp, stride: rowLen };

  const { taps, weights: kk } = vertical;
  const outRows = taps.first.length;
  const out = new Uint8Array(outRows * rowLen);
  const acc = new Float64Array(rowLen);
  for (let r = 0; r < outRows; r++) {
    acc.fill(HALF);
    const n = taps.count[r] as number;
    const base = r * taps.stride;
    const firstRow = (taps.first[r] as number) - rowFirst;
    for (let t = 0; t < n; t++) {
      const k = kk[base + t] as number;
      const rowOff = (firstRow + t) * rowLen;
      for (let j = 0; j < rowLen; j++) acc[j] = (acc[j] as number) + (tmp[rowOff + j] as number) * k;
    }
    const dst = r * rowLen;
    // `>>` takes the exact sum modulo 2^32, as Pillow's int32 accumulator wraps.
    for (let j = 0; j < rowLen; j++) out[dst + j] = clip8(acc[j] as number);
  }
  return { data: out, stride: rowLen };
}

function horizontalPass(
  src: Uint8Array,
  srcW: number,
  rowFirst: number,
  rows: number,
  taps: Taps,
  kk: Int32Array,
  tmp: Uint8Array,
): void {
  const cols = taps.first.length;
  const { first, count, stride } = taps;
  let o = 0;
  for (let r = 0; r < rows; r++) {
    const rowBase = (rowFirst + r) * srcW * 3;
    for (let j = 0; j < cols; j++) {
      const n = count[j] as number;
      const kb = j * stride;
      let p = rowBase + (first[j] as number) * 3;
      // Int32 arithmetic, as Pillow's C does (the sums fit: |weights| sum to < 2^23 and pixels < 2^8).
      let s0 = HALF;
      let s1 = HALF;
      let s2 = HALF;
      for (let t = 0; t < n; t++) {
        const k = kk[kb + t] as number;
        s0 = (s0 + Math.imul(src[p] as number, k)) | 0;
        s1 = (s1 + Math.imul(src[p + 1] as number, k)) | 0;
        s2 = (s2 + Math.imul(src[p + 2] as number, k)) | 0;
        p += 3;
      }
      tmp[o] = clip8(s0);
      tmp[o + 1] = clip8(s1);
      tmp[o + 2] = clip8(s2);
      o += 3;
    }
  }
}

/** Pillow's weights and pass order in float64, the intermediate rows held in float32 (reduce.ts). */
function floatJs(job: FloatJob): Rows<Float32Array> {
  const { src, srcW, rowFirst, rows, horizontal: ht, vertical: vt } = job;
  const cols = ht.first.length;
  const rowLen = cols * 3;
  const tmp = new Float32Array(rows * rowLen);
  const { first, count, weights, stride } = ht;
  for (let r = 0, o = 0; r < rows; r++) {
    const rowBase = (rowFirst + r) * srcW * 3;
    for (let j = 0; j < cols; j++, o += 3) {
      const n = count[j] as number;
      const kb = j * stride;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      for (let t = 0, p = rowBase + (first[j] as number) * 3; t < n; t++, p += 3) {
        const k = weights[kb + t] as number;
        s0 += (src[p] as number) * k;
        s1 += (src[p + 1] as number) * k;
        s2 += (src[p + 2] as number) * k;
      }
      tmp[o] = s0;
      tmp[o + 1] = s1;
      tmp[o + 2] = s2;
    }
  }

  const outRows = vt.first.length;
  const out = new Float32Array(outRows * rowLen);
  const acc = new Float64Array(rowLen);
  for (let i = 0; i < outRows; i++) {
    acc.fill(0);
    const n = vt.count[i] as number;
    const kb = i * vt.stride;
    const firstRow = (vt.first[i] as number) - rowFirst;
    for (let t = 0; t < n; t++) {
      const k = vt.weights[kb + t] as number;
      const off = (firstRow + t) * rowLen;
      for (let a = 0; a < rowLen; a++) acc[a] = (acc[a] as number) + (tmp[off + a] as number) * k;
    }
    out.set(acc, i * rowLen);
  }
  return { data: out, stride: rowLen };
}

function finishJs(job: FinishJob): Uint8Array {
  const { image, width, span } = job;
  sharpenAxis(image, width, span, job.x.luma, job.x.chroma, true);
  sharpenAxis(image, width, span, job.y.luma, job.y.chroma, false);
  return toBytes(image);
}

const LUMA_R = 0.299;
const LUMA_G = 0.587;
const LUMA_B = 0.114;

/**
 * In place, along one axis of the valid span: x + aC·D(x) + (aY − aC)·D(Y), where D(x)_i = 2x_i − x_{i−1}
 * − x_{i+1} (edges replicated) and Y is JPEG's luma, so luma and chroma get their own strengths.
 */
function sharpenAxis(
  img: Float32Array,
  width: number,
  span: ValidSpan,
  aLuma: number,
  aChroma: number,
  horizontal: boolean,
): void {
  if (aLuma === 0 && aChroma === 0) return;
  const lines = horizontal ? span.y1 - span.y0 : span.x1 - span.x0;
  const len = horizontal ? span.x1 - span.x0 : span.y1 - span.y0;
  const step = horizontal ? 3 : width * 3;
  const line = new Float32Array(len * 3);
  const luma = new Float32Array(len);
  for (let l = 0; l < lines; l++) {
    const x = horizontal ? span.x0 : span.x0 + l;
    const y = horizontal ? span.y0 + l : span.y0;
    const base = (y * width + x) * 3;
    for (let i = 0, p = base; i < len; i++, p += step) {
      line[i * 3] = img[p] as number;
      line[i * 3 + 1] = img[p + 1] as number;
      line[i * 3 + 2] = img[p + 2] as number;
      luma[i] =
        LUMA_R * (img[p] as number) + LUMA_G * (img[p + 1] as number) + LUMA_B * (img[p + 2] as number);
    }
    for (let i = 0, p = base; i < len; i++, p += step) {
      const l0 = Math.max(0, i - 1);
      const l1 = Math.min(len - 1, i + 1);
      const dy = (aLuma - aChroma) * (2 * (luma[i] as number) - (luma[l0] as number) - (luma[l1] as number));
      for (let c = 0; c < 3; c++) {
        const v = line[i * 3 + c] as number;
        img[p + c] = v + aChroma * (2 * v - (line[l0 * 3 + c] as number) - (line[l1 * 3 + c] as number)) + dy;
      }
    }
  }
}

/** Pillow's final store: round half up, clamp to 0..255. */
function toBytes(f: Float32Array): Uint8Array {
  const out = new Uint8Array(f.length);
  for (let i = 0; i < f.length; i++) {
    const v = Math.floor((f[i] as number) + 0.5);
    out[i] = v < 0 ? 0 : Math.min(v, 255);
  }
  return out;
}
