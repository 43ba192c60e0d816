/**
 * What the resampler hands its inner loops once the weights are known (resample.ts computes them in float64, in
 * Pillow's order), so the loops can run in JavaScript (js.ts, the reference) or WebAssembly (wasm.ts) alike.
 */
import type { Taps, ValidSpan } from "../resample.ts";

/** One axis of an integer pass: its taps and their weights in Pillow's 22-bit fixed point (`stride` per position). */
export interface FixedTaps {
  taps: Taps;
  weights: Int32Array;
}

/** resampleExact's two 8-bit passes: horizontal over source rows, then vertical; null skips a pass, as Pillow does. */
export interface ExactJob {
  /** Interleaved RGB, `srcW` pixels a row. */
  src: Uint8Array;
  srcW: number;
  /** Source rows the vertical pass reads (with no vertical pass, the output rows themselves). */
  rowFirst: number;
  rows: number;
  /** Output columns; without a horizontal pass they are source columns from `colFirst`. */
  colFirst: number;
  cols: number;
  horizontal: FixedTaps | null;
  /** Its taps count rows from the top of the source, not from `rowFirst`. */
  vertical: FixedTaps | null;
}

/** resampleReduced's passes in float64, the intermediate rows rounded to float32: the same shape, both passes. */
export interface FloatJob {
  src: Uint8Array;
  srcW: number;
  rowFirst: number;
  rows: number;
  horizontal: Taps;
  vertical: Taps;
}

/** A 3-tap [-a, 1+2a, -a] along one axis, with its own strength for luma and for chroma (reduce.ts says why). */
export interface Sharpening {
  luma: number;
  chroma: number;
}

/** resampleReduced's finish: sharpen the valid span along x, then along y, then round to bytes as Pillow stores. */
export interface FinishJob {
  /** RGB float32, `width` pixels a row: the passes' output in the crop window, zero outside `span`; left sharpened. */
  image: Float32Array;
  width: number;
  /** The valid span, in the window's pixels. */
  span: ValidSpan;
  x: Sharpening;
  y: Sharpening;
}

/**
 * The output: `cols × 3` values a row, row i from `data[i * stride]`, one row per vertical tap position (or per source
 * row without a vertical pass). It may be a view of the kernels' own memory: copy it out before the next call.
 */
export interface Rows<T extends Uint8Array | Float32Array> {
  data: T;
  stride: number;
}

export type ResamplerName = "wasm" | "js";

export interface ResampleKernels {
  /** Which implementation this is: "wasm" only when the SIMD module loaded. */
  readonly name: ResamplerName;
  exact(job: ExactJob): Rows<Uint8Array>;
  float(job: FloatJob): Rows<Float32Array>;
  /** The bytes of the finished window (a new array, the caller's to keep). */
  finish(job: FinishJob): Uint8Array;
}
