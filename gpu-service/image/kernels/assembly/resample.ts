// AssemblyScript, compiled to WebAssembly with SIMD by `npm run build:resample-wasm` (tools/build-resample-wasm.ts);
// the committed binary is resample.wasm.gen.ts beside this folder. The inner loops of ../js.ts, the reference, on
// linear memory the caller lays out (../wasm.ts): every pointer and stride here is in bytes.
//
// Exactness. The integer passes are sums of products in int32, which wrap the same way in any order, so lanes may
// hold any grouping of a pixel's taps. The float passes keep the reference's order (one lane is one output value,
// its taps added one by one, no fused multiply-add), so each lane rounds exactly as the reference's scalar does.

const PRECISION_BITS = 22;
const HALF: i32 = 1 << (PRECISION_BITS - 1);

/** Where the caller may start laying out its buffers. */
export function heapBase(): usize {
  return __heap_base;
}

/**
 * Pillow's int32 weights rearranged for `horizontalInt`: per output column, groups of 8 taps, each group three pairs
 * of i16x8 vectors matching the lanes `horizontalInt` gathers from 24 interleaved RGB bytes (tap pairs of one channel,
 * see GATHER_*). A pair is the weights' high part (k >> 11, signed) then the low 11 bits, so each product fits i16 ×
 * i16 and k · p = (hi · p) << 11 + lo · p exactly. Taps past `counts[j]` get weight 0. `outStride` is the bytes per
 * column (GROUP_BYTES × the most groups any column has).
 */
export function expandWeightsInt(
  weights: usize,
  stride: i32,
  counts: usize,
  cols: i32,
  out: usize,
  outStride: i32,
): void {
  const taps = (outStride / GROUP_BYTES) * 8;
  for (let j = 0; j < cols; j++) {
    const n = load<i32>(counts + ((<usize>j) << 2));
    const src = weights + <usize>(j * stride) * 4;
    const dst = out + <usize>(j * outStride);
    for (let g = 0; g < taps; g += 8) {
      const group = dst + <usize>((g >> 3) * GROUP_BYTES);
      for (let lane = 0; lane < 24; lane++) {
        // Lane `lane` of the group's three vectors holds tap g + TAP_OF_LANE[lane].
        const t = g + <i32>load<u8>(TAP_OF_LANE + <usize>lane);
        const k = t < n ? load<i32>(src + ((<usize>t) << 2)) : 0;
        const at = group + <usize>((lane >> 3) * 32 + (lane & 7) * 2);
        store<i16>(at, <i16>(k >> LO_BITS));
        store<i16>(at, <i16>(k & ((1 << LO_BITS) - 1)), 16);
      }
    }
  }
}

const LO_BITS = 11;
/** Bytes of weights per group of 8 taps: 3 vectors × (high, low) × 16 bytes. */
const GROUP_BYTES = 96;
// The three vectors of a group of 8 taps: i16 lanes (R0 R1 G0 G1 B0 B1 R2 R3), (G2 G3 B2 B3 R4 R5 G4 G5),
// (B4 B5 R6 R7 G6 G7 B6 B7), each a same-channel pair for i32x4.dot_i16x8_s, gathered from 16 bytes read at the
// group's byte 0, 6 and 12. 0x80: a zero byte (the high half of each i16).
const Z: u8 = 0x80;
const TAP_OF_LANE = memory.data<u8>([0, 1, 0, 1, 0, 1, 2, 3, 2, 3, 2, 3, 4, 5, 4, 5, 4, 5, 6, 7, 6, 7, 6, 7]);
// Read from memory, not written as v128 constants: V8 rebuilds a constant vector at every use inside a loop (four
// instructions each), but keeps a loaded one in a register.
const GATHER_A = memory.data<u8>([0, Z, 3, Z, 1, Z, 4, Z, 2, Z, 5, Z, 6, Z, 9, Z], 16);
const GATHER_B = memory.data<u8>([1, Z, 4, Z, 2, Z, 5, Z, 6, Z, 9, Z, 7, Z, 10, Z], 16);
const GATHER_C = memory.data<u8>([2, Z, 5, Z, 6, Z, 9, Z, 7, Z, 10, Z, 8, Z, 11, Z], 16);
/** HALF in four i32 lanes, from memory for the same reason. */
const HALF4 = memory.data<i32>([HALF, HALF, HALF, HALF], 16);

/**
 * Horizontal pass of Pillow's 8-bit resampler over `rows` rows of interleaved RGB: output column j sums, from byte
 * `offsets[j]` of the row, `groups[j]` groups of 8 pixels (24 bytes) times the expanded weights, then rounds and
 * clips to 8 bits. Reads up to 32 bytes past a column's last tap (zero weights), so the source needs that much slack;
 * writes 4 bytes per column, 3 kept, so a tmp row needs one byte of slack.
 */
export function horizontalInt(
  src: usize,
  srcStride: i32,
  rows: i32,
  cols: i32,
  offsets: usize,
  groups: usize,
  weights: usize,
  weightStride: i32,
  tmp: usize,
  tmpStride: i32,
): void {
  const ga = v128.load(GATHER_A);
  const gb = v128.load(GATHER_B);
  const gc = v128.load(GATHER_C);
  const half = v128.load(HALF4);
  for (let r = 0; r < rows; r++) {
    const row = src + <usize>(r * srcStride);
    let o = tmp + <usize>(r * tmpStride);
    for (let j = 0; j < cols; j++) {
      const jj = (<usize>j) << 2;
      let p = row + <usize>load<i32>(offsets + jj);
      let w = weights + <usize>(j * weightStride);
      const end = w + <usize>(load<i32>(groups + jj) * GROUP_BYTES);
      let ah = i32x4.splat(0);
      let al = i32x4.splat(0);
      let bh = i32x4.splat(0);
      let bl = i32x4.splat(0);
      let ch = i32x4.splat(0);
      let cl = i32x4.splat(0);
      while (w < end) {
        const va = i8x16.swizzle(v128.load(p), ga);
        const vb = i8x16.swizzle(v128.load(p, 6), gb);
        const vc = i8x16.swizzle(v128.load(p, 12), gc);
        ah = i32x4.add(ah, i32x4.dot_i16x8_s(va, v128.load(w)));
        al = i32x4.add(al, i32x4.dot_i16x8_s(va, v128.load(w, 16)));
        bh = i32x4.add(bh, i32x4.dot_i16x8_s(vb, v128.load(w, 32)));
        bl = i32x4.add(bl, i32x4.dot_i16x8_s(vb, v128.load(w, 48)));
        ch = i32x4.add(ch, i32x4.dot_i16x8_s(vc, v128.load(w, 64)));
        cl = i32x4.add(cl, i32x4.dot_i16x8_s(vc, v128.load(w, 80)));
        p += 24;
        w += GROUP_BYTES;
      }
      const a = i32x4.add(i32x4.shl(ah, LO_BITS), al);
      const b = i32x4.add(i32x4.shl(bh, LO_BITS), bl);
      const c = i32x4.add(i32x4.shl(ch, LO_BITS), cl);
      // Lanes a0 a1 a2 a3 | b0 b1 b2 b3 | c0 c1 c2 c3 hold channels R G B R | G B R G | B R G B: fold into lanes 0..2.
      let s = i32x4.add(a, v128.shuffle<i32>(a, b, 3, 4, 5, 0));
      s = i32x4.add(s, v128.shuffle<i32>(b, c, 2, 3, 4, 0));
      s = i32x4.add(s, v128.shuffle<i32>(c, c, 1, 2, 3, 0));
      v128.store32_lane(o, clip8(i32x4.add(s, half)), 0);
      o += 3;
    }
  }
}

/**
 * Vertical pass: output row i sums `counts[i]` tmp rows from row `firsts[i]` times its int32 weights (`weights`,
 * `stride` per row), 16 bytes at a time over `rowBytes` (rounded up to 16: strides must allow that).
 */
export function verticalInt(
  tmp: usize,
  tmpStride: i32,
  outRows: i32,
  firsts: usize,
  counts: usize,
  weights: usize,
  stride: i32,
  rowBytes: i32,
  out: usize,
  outStride: i32,
): void {
  const half = v128.load(HALF4);
  for (let i = 0; i < outRows; i++) {
    const ii = (<usize>i) << 2;
    const n = load<i32>(counts + ii);
    const base = tmp + <usize>(load<i32>(firsts + ii) * tmpStride);
    const k0 = weights + <usize>(i * stride) * 4;
    const kEnd = k0 + ((<usize>n) << 2);
    const o = out + <usize>(i * outStride);
    for (let x = 0; x < rowBytes; x += 16) {
      let a0 = half;
      let a1 = half;
      let a2 = half;
      let a3 = half;
      let p = base + <usize>x;
      for (let k = k0; k < kEnd; k += 4) {
        const w = v128.load32_splat(k);
        const v = v128.load(p);
        const lo = i16x8.extend_low_i8x16_u(v);
        const hi = i16x8.extend_high_i8x16_u(v);
        a0 = i32x4.add(a0, i32x4.mul(i32x4.extend_low_i16x8_u(lo), w));
        a1 = i32x4.add(a1, i32x4.mul(i32x4.extend_high_i16x8_u(lo), w));
        a2 = i32x4.add(a2, i32x4.mul(i32x4.extend_low_i16x8_u(hi), w));
        a3 = i32x4.add(a3, i32x4.mul(i32x4.extend_high_i16x8_u(hi), w));
        p += <usize>tmpStride;
      }
      const s0 = i16x8.narrow_i32x4_s(i32x4.shr_s(a0, PRECISION_BITS), i32x4.shr_s(a1, PRECISION_BITS));
      const s1 = i16x8.narrow_i32x4_s(i32x4.shr_s(a2, PRECISION_BITS), i32x4.shr_s(a3, PRECISION_BITS));
      v128.store(o + <usize>x, i8x16.narrow_i16x8_u(s0, s1));
    }
  }
}

/** Pillow's clip8 on four lanes: drop the fraction, saturate to 0..255 (bytes 0..3 of the result). */
function clip8(acc: v128): v128 {
  const s = i16x8.narrow_i32x4_s(i32x4.shr_s(acc, PRECISION_BITS), acc);
  return i8x16.narrow_i16x8_u(s, s);
}

/**
 * Two rows of `values` bytes (`a`, `b`) to float64, interleaved in `dst` as a0 b0 a1 b1 …: the float pass's source,
 * converted once instead of once per tap, laid out so that a tap of both rows is three whole vectors (Ra Rb) (Ga Gb)
 * (Ba Bb). Works 8 values of each row at a time, so reads up to 7 bytes past each row.
 */
function rowPairToF64(a: usize, b: usize, values: i32, dst: usize): void {
  for (let i = 0; i < values; i += 8) {
    const at = <usize>i;
    const zipped = v128.shuffle<u8>(
      v128.load64_zero(a + at),
      v128.load64_zero(b + at),
      0,
      16,
      1,
      17,
      2,
      18,
      3,
      19,
      4,
      20,
      5,
      21,
      6,
      22,
      7,
      23,
    );
    const d = dst + (at << 4);
    bytesToF64(i16x8.extend_low_i8x16_u(zipped), d);
    bytesToF64(i16x8.extend_high_i8x16_u(zipped), d + 64);
  }
}

/** Eight uint16 lanes to eight float64 at `dst`. */
function bytesToF64(v: v128, dst: usize): void {
  const lo = i32x4.extend_low_i16x8_u(v);
  const hi = i32x4.extend_high_i16x8_u(v);
  v128.store(dst, f64x2.convert_low_i32x4_s(lo));
  v128.store(dst, f64x2.convert_low_i32x4_s(v128.shuffle<i32>(lo, lo, 2, 3, 2, 3)), 16);
  v128.store(dst, f64x2.convert_low_i32x4_s(hi), 32);
  v128.store(dst, f64x2.convert_low_i32x4_s(v128.shuffle<i32>(hi, hi, 2, 3, 2, 3)), 48);
}

/** A float64 rounded to float32 and back, on both lanes: what a store to a Float32Array keeps. */
function toF32(v: v128): v128 {
  return f64x2.promote_low_f32x4(f32x4.demote_f64x2_zero(v));
}

/**
 * Horizontal pass of the float resampler (reduce.ts): rows go in pairs, whose pixels from `colFirst` (`colCount` of
 * them) are converted to float64 in `scratch` (rowPairToF64); output column j of both rows sums `counts[j]` pixels
 * from pixel `firsts[j]` times float64 `weights` (`stride` per column, zero past the count), in tap order, each lane
 * one channel of one row. Results are rounded to float32 and kept as float64 in `tmp`. Columns go in pairs too, for
 * six independent chains of additions; the shorter column of a pair adds zero-weight taps, which leave a sum
 * unchanged (it is never -0). So `scratch` must hold `colCount + stride` pixel pairs, finite past `colCount`; an odd
 * last row is paired with itself, writing a row past the last (`tmp` needs it).
 */
export function horizontalFloat(
  src: usize,
  srcStride: i32,
  rows: i32,
  colFirst: i32,
  colCount: i32,
  cols: i32,
  firsts: usize,
  counts: usize,
  weights: usize,
  stride: i32,
  scratch: usize,
  tmp: usize,
  tmpStride: i32,
): void {
  const rowStart = <usize>(colFirst * 3);
  for (let r = 0; r < rows; r += 2) {
    const a = src + <usize>(r * srcStride) + rowStart;
    rowPairToF64(a, r + 1 < rows ? a + <usize>srcStride : a, colCount * 3, scratch);
    const oa = tmp + <usize>(r * tmpStride);
    const ob = oa + <usize>tmpStride;
    for (let j = 0; j < cols; j += 2) {
      const j1 = j + 1 < cols ? j + 1 : j;
      const n = max(load<i32>(counts + ((<usize>j) << 2)), load<i32>(counts + ((<usize>j1) << 2)));
      let p0 = scratch + <usize>((load<i32>(firsts + ((<usize>j) << 2)) - colFirst) * 48);
      let p1 = scratch + <usize>((load<i32>(firsts + ((<usize>j1) << 2)) - colFirst) * 48);
      let w0 = weights + ((<usize>(j * stride)) << 3);
      let w1 = weights + ((<usize>(j1 * stride)) << 3);
      // (Ra Rb) (Ga Gb) (Ba Bb) of column j, then of column j1.
      let s0 = f64x2.splat(0);
      let s1 = f64x2.splat(0);
      let s2 = f64x2.splat(0);
      let s3 = f64x2.splat(0);
      let s4 = f64x2.splat(0);
      let s5 = f64x2.splat(0);
      for (let t = 0; t < n; t++) {
        const k0 = v128.load64_splat(w0);
        const k1 = v128.load64_splat(w1);
        s0 = f64x2.add(s0, f64x2.mul(v128.load(p0), k0));
        s1 = f64x2.add(s1, f64x2.mul(v128.load(p0, 16), k0));
        s2 = f64x2.add(s2, f64x2.mul(v128.load(p0, 32), k0));
        s3 = f64x2.add(s3, f64x2.mul(v128.load(p1), k1));
        s4 = f64x2.add(s4, f64x2.mul(v128.load(p1, 16), k1));
        s5 = f64x2.add(s5, f64x2.mul(v128.load(p1, 32), k1));
        p0 += 48;
        p1 += 48;
        w0 += 8;
        w1 += 8;
      }
      const at = <usize>(j * 24);
      storePixelPair(oa + at, ob + at, toF32(s0), toF32(s1), toF32(s2));
      if (j1 !== j) storePixelPair(oa + at + 24, ob + at + 24, toF32(s3), toF32(s4), toF32(s5));
    }
  }
}

/** (Ra Rb) (Ga Gb) (Ba Bb) to pixel a (3 float64) and pixel b. */
function storePixelPair(a: usize, b: usize, r: v128, g: v128, bl: v128): void {
  v128.store(a, v128.shuffle<i64>(r, g, 0, 2));
  v128.store64_lane(a, bl, 0, 16);
  v128.store(b, v128.shuffle<i64>(r, g, 1, 3));
  v128.store64_lane(b, bl, 1, 16);
}

/**
 * Vertical pass of the float resampler: output row i sums `counts[i]` tmp rows (float64) from row `firsts[i]` times
 * its float64 weights, in tap order, 8 values at a time over `rowValues` (rounded up to 8), and stores float32.
 */
export function verticalFloat(
  tmp: usize,
  tmpStride: i32,
  outRows: i32,
  firsts: usize,
  counts: usize,
  weights: usize,
  stride: i32,
  rowValues: i32,
  out: usize,
  outStride: i32,
): void {
  for (let i = 0; i < outRows; i++) {
    const ii = (<usize>i) << 2;
    const n = load<i32>(counts + ii);
    const base = tmp + <usize>(load<i32>(firsts + ii) * tmpStride);
    const k0 = weights + ((<usize>(i * stride)) << 3);
    const kEnd = k0 + ((<usize>n) << 3);
    const o = out + <usize>(i * outStride);
    for (let x = 0; x < rowValues; x += 8) {
      let a0 = f64x2.splat(0);
      let a1 = f64x2.splat(0);
      let a2 = f64x2.splat(0);
      let a3 = f64x2.splat(0);
      let p = base + ((<usize>x) << 3);
      for (let k = k0; k < kEnd; k += 8) {
        const w = v128.load64_splat(k);
        a0 = f64x2.add(a0, f64x2.mul(v128.load(p), w));
        a1 = f64x2.add(a1, f64x2.mul(v128.load(p, 16), w));
        a2 = f64x2.add(a2, f64x2.mul(v128.load(p, 32), w));
        a3 = f64x2.add(a3, f64x2.mul(v128.load(p, 48), w));
        p += <usize>tmpStride;
      }
      const d = o + ((<usize>x) << 2);
      v128.store(d, v128.shuffle<i32>(f32x4.demote_f64x2_zero(a0), f32x4.demote_f64x2_zero(a1), 0, 1, 4, 5));
      v128.store(
        d,
        v128.shuffle<i32>(f32x4.demote_f64x2_zero(a2), f32x4.demote_f64x2_zero(a3), 0, 1, 4, 5),
        16,
      );
    }
  }
}

// JPEG's luma weights, for the sharpening of reduce.ts.
const LUMA_R = 0.299;
const LUMA_G = 0.587;
const LUMA_B = 0.114;

/**
 * In place, the 3-tap sharpening of the pre-reduced paths along one axis, in the reference's float64 order:
 * x + aC·(2x − x₋ − x₊) + (aY − aC)·(2Y − Y₋ − Y₊), edges replicated, Y the pixel's luma rounded to float32. `lines`
 * lines of `len` float32 RGB pixels, pixel i of line l at `img + l·lineStep + i·step`; `luma` holds `len` floats.
 */
export function sharpen(
  img: usize,
  step: i32,
  lineStep: i32,
  len: i32,
  lines: i32,
  aLuma: f64,
  aChroma: f64,
  luma: usize,
): void {
  const dl = aLuma - aChroma;
  const last = len - 1;
  for (let l = 0; l < lines; l++) {
    const base = img + <usize>(l * lineStep);
    for (let i = 0; i < len; i++) {
      const p = base + <usize>(i * step);
      const y = LUMA_R * <f64>load<f32>(p) + LUMA_G * <f64>load<f32>(p, 4) + LUMA_B * <f64>load<f32>(p, 8);
      store<f32>(luma + ((<usize>i) << 2), <f32>y);
    }
    // The previous and current pixels' values before this line was changed (the first pixel is its own previous).
    let r0 = <f64>load<f32>(base);
    let g0 = <f64>load<f32>(base, 4);
    let b0 = <f64>load<f32>(base, 8);
    let y0 = <f64>load<f32>(luma);
    let r1 = r0;
    let g1 = g0;
    let b1 = b0;
    let y1 = y0;
    for (let i = 0; i < len; i++) {
      const p = base + <usize>(i * step);
      const next = i < last ? i + 1 : last;
      const q = base + <usize>(next * step);
      const r2 = <f64>load<f32>(q);
      const g2 = <f64>load<f32>(q, 4);
      const b2 = <f64>load<f32>(q, 8);
      const y2 = <f64>load<f32>(luma + ((<usize>next) << 2));
      const dy = dl * (2 * y1 - y0 - y2);
      store<f32>(p, <f32>(r1 + aChroma * (2 * r1 - r0 - r2) + dy));
      store<f32>(p, <f32>(g1 + aChroma * (2 * g1 - g0 - g2) + dy), 4);
      store<f32>(p, <f32>(b1 + aChroma * (2 * b1 - b0 - b2) + dy), 8);
      r0 = r1;
      g0 = g1;
      b0 = b1;
      y0 = y1;
      r1 = r2;
      g1 = g2;
      b1 = b2;
      y1 = y2;
    }
  }
}

/** One half, in two float64 lanes (from memory, as HALF4). */
const ONE_HALF = memory.data<f64>([0.5, 0.5], 16);

/**
 * Pillow's final store of the pre-reduced paths, `values` float32 to bytes (rounded up to 8: both buffers need the
 * slack): floor(x + 0.5) in float64, clamped to 0..255.
 */
export function toBytes(src: usize, values: i32, dst: usize): void {
  const half = v128.load(ONE_HALF);
  for (let i = 0; i < values; i += 8) {
    const s = src + ((<usize>i) << 2);
    const a = v128.load(s);
    const b = v128.load(s, 16);
    const lo = v128.shuffle<i32>(
      roundHalfUp(a, half),
      roundHalfUp(v128.shuffle<i32>(a, a, 2, 3, 2, 3), half),
      0,
      1,
      4,
      5,
    );
    const hi = v128.shuffle<i32>(
      roundHalfUp(b, half),
      roundHalfUp(v128.shuffle<i32>(b, b, 2, 3, 2, 3), half),
      0,
      1,
      4,
      5,
    );
    const words = i16x8.narrow_i32x4_s(lo, hi);
    v128.store64_lane(dst + <usize>i, i8x16.narrow_i16x8_u(words, words), 0);
  }
}

/** floor(x + 0.5) of the two low float32 lanes, as int32 (saturated) in lanes 0 and 1. */
function roundHalfUp(v: v128, half: v128): v128 {
  return i32x4.trunc_sat_f64x2_s_zero(f64x2.floor(f64x2.add(f64x2.promote_low_f32x4(v), half)));
}
