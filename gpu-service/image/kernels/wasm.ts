/**
 * The resampler's inner loops in WebAssembly with SIMD (assembly/, committed compiled in
 * resample.wasm.gen.ts): the same results as js.ts, byte for byte, several times faster. This side lays out the
 * instance's linear memory for each call and copies the source in, a strip of rows at a time: a strip stays in cache
 * between the copy and the pass, and memory grows with the window's intermediate rows, not the source image.
 */
import { decodeBase64 } from "../../../src/encoding/base64.ts";
import type { Taps } from "../resample.ts";
import { RESAMPLE_WASM_BASE64 } from "./resample.wasm.gen.ts";
import type { ExactJob, FinishJob, FloatJob, ResampleKernels, Rows, Sharpening } from "./types.ts";

/** The few members of the WebAssembly JS API used here (the type check's libraries, without the DOM's, lack it). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: unknown };
}

interface Exports {
  memory: WasmMemory;
  heapBase(): number;
  expandWeightsInt(
    weights: number,
    stride: number,
    counts: number,
    cols: number,
    out: number,
    outStride: number,
  ): void;
  horizontalInt(
    src: number,
    srcStride: number,
    rows: number,
    cols: number,
    offsets: number,
    groups: number,
    weights: number,
    weightStride: number,
    tmp: number,
    tmpStride: number,
  ): void;
  verticalInt(
    tmp: number,
    tmpStride: number,
    outRows: number,
    firsts: number,
    counts: number,
    weights: number,
    stride: number,
    rowBytes: number,
    out: number,
    outStride: number,
  ): void;
  horizontalFloat(
    src: number,
    srcStride: number,
    rows: number,
    colFirst: number,
    colCount: number,
    cols: number,
    firsts: number,
    counts: number,
    weights: number,
    stride: number,
    scratch: number,
    tmp: number,
    tmpStride: number,
  ): void;
  verticalFloat(
    tmp: number,
    tmpStride: number,
    outRows: number,
    firsts: number,
    counts: number,
    weights: number,
    stride: number,
    rowValues: number,
    out: number,
    outStride: number,
  ): void;
  sharpen(
    img: number,
    step: number,
    lineStep: number,
    len: number,
    lines: number,
    aLuma: number,
    aChroma: number,
    luma: number,
  ): void;
  toBytes(src: number, values: number, dst: number): void;
}

/** Source bytes copied per strip: a few strips of a phone photo, each well inside L2. */
const STRIP_BYTES = 192 * 1024;
/** The kernels read up to 32 bytes past a strip's last needed byte (multiplied by zero weights). */
const SLACK = 32;
const PAGE = 65536;

const align = (n: number, to: number) => Math.ceil(n / to) * to;

/** A bump allocator over the instance's memory for one call: offsets first, then one grow, then views. */
class Layout {
  private end: number;
  constructor(base: number) {
    this.end = align(base, 16);
  }
  take(bytes: number): number {
    const at = this.end;
    this.end = align(at + bytes, 16);
    return at;
  }
  ensure(memory: WasmMemory): void {
    const short = this.end - memory.buffer.byteLength;
    if (short > 0) memory.grow(Math.ceil(short / PAGE));
  }
}

/**
 * Kernels on a new instance of the module (by default the committed build), or null when this runtime cannot run it
 * (no SIMD): callers then use the JS kernels.
 */
export function wasmKernels(bytes = decodeBase64(RESAMPLE_WASM_BASE64)): ResampleKernels | null {
  const api = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  if (!api || !bytes || !api.validate(bytes)) return null;
  const exports = new api.Instance(new api.Module(bytes)).exports as Exports;
  return {
    name: "wasm",
    exact: (job) => exactWasm(exports, job),
    float: (job) => floatWasm(exports, job),
    finish: (job) => finishWasm(exports, job),
  };
}

function exactWasm(x: Exports, job: ExactJob): Rows<Uint8Array> {
  const { src, srcW, rowFirst, rows, colFirst, cols, horizontal: h, vertical: v } = job;
  const rowLen = cols * 3;
  const srcStride = srcW * 3;
  // One byte of slack: horizontalInt stores 4 bytes per pixel. Multiples of 16: verticalInt works 16 bytes at a time.
  const tmpStride = align(rowLen + 1, 16);
  const outRows = v ? v.taps.first.length : rows;
  const outStride = align(rowLen, 16);

  const m = new Layout(x.heapBase());
  let maxCount = 0;
  for (const n of h?.taps.count ?? []) maxCount = Math.max(maxCount, n);
  // horizontalInt takes taps 8 at a time, 96 bytes of weights each (expandWeightsInt).
  const weightStride = Math.ceil(maxCount / 8) * 96;
  const hOffsets = m.take(cols * 4);
  const hGroups = m.take(cols * 4);
  const hCounts = m.take(cols * 4);
  const hFixed = m.take((h?.weights.length ?? 0) * 4);
  const hWeights = m.take(cols * weightStride);
  const vFirsts = m.take(outRows * 4);
  const vCounts = m.take(outRows * 4);
  const vWeights = m.take((v?.weights.length ?? 0) * 4);
  const tmp = m.take(rows * tmpStride);
  const out = v ? m.take(outRows * outStride) : tmp;
  const stripRows = Math.max(1, Math.min(rows, Math.floor(STRIP_BYTES / srcStride)));
  const strip = m.take(stripRows * srcStride + SLACK);
  m.ensure(x.memory);
  const u8 = new Uint8Array(x.memory.buffer);
  const i32 = new Int32Array(x.memory.buffer);

  if (h) {
    const { first, count, stride } = h.taps;
    for (let j = 0; j < cols; j++) {
      i32[(hOffsets >> 2) + j] = (first[j] as number) * 3;
      i32[(hGroups >> 2) + j] = Math.ceil((count[j] as number) / 8);
    }
    i32.set(count, hCounts >> 2);
    i32.set(h.weights, hFixed >> 2);
    x.expandWeightsInt(hFixed, stride, hCounts, cols, hWeights, weightStride);
    inStrips({ u8, src, srcStride, rowFirst, rows, stripRows, strip }, (n, s) =>
      x.horizontalInt(
        strip,
        srcStride,
        n,
        cols,
        hOffsets,
        hGroups,
        hWeights,
        weightStride,
        tmp + s * tmpStride,
        tmpStride,
      ),
    );
  } else {
    for (let r = 0; r < rows; r++) {
      const at = ((rowFirst + r) * srcW + colFirst) * 3;
      u8.set(src.subarray(at, at + rowLen), tmp + r * tmpStride);
    }
  }
  if (!v) return { data: u8.subarray(tmp, tmp + rows * tmpStride), stride: tmpStride };

  setRelativeFirsts(i32, vFirsts, v.taps, rowFirst);
  i32.set(v.taps.count, vCounts >> 2);
  i32.set(v.weights, vWeights >> 2);
  x.verticalInt(tmp, tmpStride, outRows, vFirsts, vCounts, vWeights, v.taps.stride, rowLen, out, outStride);
  return { data: u8.subarray(out, out + outRows * outStride), stride: outStride };
}

function floatWasm(x: Exports, job: FloatJob): Rows<Float32Array> {
  const { src, srcW, rowFirst, rows, horizontal: ht, vertical: vt } = job;
  const cols = ht.first.length;
  const outRows = vt.first.length;
  const srcStride = srcW * 3;
  // Pixels each pair of rows converts to float64 (48 bytes a pixel, 8 values at a time), and the most any pair of
  // columns reads past them (zero weights; see horizontalFloat).
  const colFirst = ht.first[0] as number;
  const colCount = Math.max(0, (ht.first[cols - 1] as number) + (ht.count[cols - 1] as number) - colFirst);
  const scratchBytes = (colCount + ht.stride + 3) * 48;
  // Both passes work 8 values (64 bytes of float64) at a time.
  const rowValues = align(cols * 3, 8);
  const tmpStride = rowValues * 8;
  const outStride = rowValues * 4;

  const m = new Layout(x.heapBase());
  const hFirsts = m.take(cols * 4);
  const hCounts = m.take(cols * 4);
  const hWeights = m.take(ht.weights.length * 8);
  const vFirsts = m.take(outRows * 4);
  const vCounts = m.take(outRows * 4);
  const vWeights = m.take(vt.weights.length * 8);
  const scratch = m.take(scratchBytes);
  // One more row: horizontalFloat writes rows in pairs.
  const tmp = m.take((rows + 1) * tmpStride);
  const out = m.take(outRows * outStride);
  // Even, so that only the last strip may pair a row with itself.
  const stripRows = Math.max(2, Math.min(rows, Math.floor(STRIP_BYTES / srcStride / 2) * 2));
  const strip = m.take(stripRows * srcStride + SLACK);
  m.ensure(x.memory);
  const buffer = x.memory.buffer;
  const u8 = new Uint8Array(buffer);
  const i32 = new Int32Array(buffer);
  const f64 = new Float64Array(buffer);

  i32.set(ht.first, hFirsts >> 2);
  i32.set(ht.count, hCounts >> 2);
  f64.set(ht.weights, hWeights >> 3);
  setRelativeFirsts(i32, vFirsts, vt, rowFirst);
  i32.set(vt.count, vCounts >> 2);
  f64.set(vt.weights, vWeights >> 3);
  // Reads past the converted pixels must meet finite values (0 × NaN would not be 0); earlier calls left anything.
  u8.fill(0, scratch, scratch + scratchBytes);
  inStrips({ u8, src, srcStride, rowFirst, rows, stripRows, strip }, (n, s) =>
    x.horizontalFloat(
      strip,
      srcStride,
      n,
      colFirst,
      colCount,
      cols,
      hFirsts,
      hCounts,
      hWeights,
      ht.stride,
      scratch,
      tmp + s * tmpStride,
      tmpStride,
    ),
  );
  x.verticalFloat(tmp, tmpStride, outRows, vFirsts, vCounts, vWeights, vt.stride, rowValues, out, outStride);
  return { data: new Float32Array(buffer, out, outRows * rowValues), stride: rowValues };
}

/** The window's source rows and the strip buffer in the instance's memory they are copied through. */
interface Strips {
  u8: Uint8Array;
  src: Uint8Array;
  srcStride: number;
  rowFirst: number;
  rows: number;
  stripRows: number;
  strip: number;
}

/** Copies the window's rows into the strip buffer a strip at a time; `pass(n, s)` runs on rows s .. s + n of it. */
function inStrips(strips: Strips, pass: (n: number, s: number) => void): void {
  const { u8, src, srcStride, rowFirst, rows, stripRows, strip } = strips;
  for (let s = 0; s < rows; s += stripRows) {
    const n = Math.min(stripRows, rows - s);
    const at = (rowFirst + s) * srcStride;
    u8.set(src.subarray(at, at + n * srcStride), strip);
    pass(n, s);
  }
}

/** The vertical taps' first rows, counted from the first row the horizontal pass produced. */
function setRelativeFirsts(i32: Int32Array, at: number, taps: Taps, rowFirst: number): void {
  for (let i = 0; i < taps.first.length; i++) i32[(at >> 2) + i] = (taps.first[i] as number) - rowFirst;
}

function finishWasm(x: Exports, job: FinishJob): Uint8Array {
  const { image, width, span } = job;
  const values = image.length;
  const w = span.x1 - span.x0;
  const h = span.y1 - span.y0;
  const m = new Layout(x.heapBase());
  // toBytes works 8 values at a time.
  const img = m.take(align(values, 8) * 4);
  const luma = m.take(Math.max(w, h, 0) * 4);
  const bytes = m.take(align(values, 8));
  m.ensure(x.memory);
  const buffer = x.memory.buffer;
  new Float32Array(buffer).set(image, img >> 2);
  if (w > 0 && h > 0) {
    const pixel = 12;
    const row = width * pixel;
    const base = img + span.y0 * row + span.x0 * pixel;
    const sharpen = (s: Sharpening, step: number, lineStep: number, len: number, lines: number) => {
      // As the reference: no strength, no pass.
      if (s.luma !== 0 || s.chroma !== 0) x.sharpen(base, step, lineStep, len, lines, s.luma, s.chroma, luma);
    };
    sharpen(job.x, pixel, row, w, h);
    sharpen(job.y, row, pixel, h, w);
  }
  x.toBytes(img, values, bytes);
  // Left in `image` as the reference leaves them (0.6 MB for a 224² window: tens of microseconds), so tests can
  // compare the sharpened floats, not only the bytes they round to.
  image.set(new Float32Array(buffer, img, values));
  return new Uint8Array(buffer).slice(bytes, bytes + values);
}
