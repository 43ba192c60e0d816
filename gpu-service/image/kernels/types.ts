/**
 * What the resampler hands its inner loops once the weights are known (resample.ts computes them in float64, in
 * Pillow's order), so the loops can run in JavaScript (js.ts, the reference) or WebAssembly (wasm.ts) alike.
 */
import type { Taps } from "../resample.ts";

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
}
