/**
 * The resampler's inner loops, chosen by name: "wasm" (the default, WebAssembly SIMD) or "js" (the reference).
 * Both give the same bytes; "wasm" falls back to "js" where the runtime cannot validate the SIMD module.
 */
import { jsKernels } from "./js.ts";
import type { ResampleKernels, ResamplerName, Rows } from "./types.ts";
import { wasmKernels } from "./wasm.ts";

export { jsKernels, PRECISION_BITS } from "./js.ts";
export type { ExactJob, FixedTaps, FloatJob, ResampleKernels, ResamplerName, Rows } from "./types.ts";

// One instance per thread (each worker thread loads its own copy of this module): the kernels are synchronous, so
// no two calls ever share the instance's memory at once. Compiled on first use, not at import.
let wasm: ResampleKernels | undefined;

/** @example resampleKernels().name === "wasm" on Node 24; resampleKernels("js") is the reference. */
export function resampleKernels(name: ResamplerName = "wasm"): ResampleKernels {
  if (name === "js") return jsKernels;
  wasm ??= wasmKernels() ?? jsKernels;
  return wasm;
}

/** Copies `count` rows of `rowLen` values into `out`, row i at `offset + i * outStride`. */
export function placeRows<T extends Uint8Array | Float32Array>(
  rows: Rows<T>,
  count: number,
  rowLen: number,
  out: T,
  offset: number,
  outStride: number,
): void {
  for (let i = 0; i < count; i++) {
    const at = i * rows.stride;
    out.set(rows.data.subarray(at, at + rowLen), offset + i * outStride);
  }
}
