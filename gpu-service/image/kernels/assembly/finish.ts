// The finish of the pre-reduced paths (../js.ts finishJs): sharpening, then Pillow's rounding to bytes.

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
