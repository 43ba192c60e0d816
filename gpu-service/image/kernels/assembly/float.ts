// The float64 passes of the pre-reduced paths (../js.ts floatJs), in the reference's order lane by lane.

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
