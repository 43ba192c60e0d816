// AssemblyScript, compiled to WebAssembly with SIMD by `npm run build:resample-wasm` (tools/build-resample-wasm.ts)
// from this entry file; the committed binary is ../resample.wasm.gen.ts. The inner loops of ../js.ts, the reference,
// on linear memory the caller lays out (../wasm.ts): every pointer and stride here is in bytes.
//
// Exactness. The integer passes are sums of products in int32, which wrap the same way in any order, so lanes may
// hold any grouping of a pixel's taps. The float passes keep the reference's order (one lane is one output value,
// its taps added one by one, no fused multiply-add), so each lane rounds exactly as the reference's scalar does.

export { expandWeightsInt, horizontalInt, verticalInt } from "./exact";
export { sharpen, toBytes } from "./finish";
export { horizontalFloat, verticalFloat } from "./float";

/** Where the caller may start laying out its buffers. */
export function heapBase(): usize {
  return __heap_base;
}
