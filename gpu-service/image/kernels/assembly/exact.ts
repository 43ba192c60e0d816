// The 8-bit passes of resampleExact (../js.ts exactJs): Pillow's 22-bit fixed point in int32 lanes.

const PRECISION_BITS = 22;
const HALF: i32 = 1 << (PRECISION_BITS - 1);

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
