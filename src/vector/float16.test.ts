import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  float16ToFloat32 as fastFloat16ToFloat32,
  float32ToFloat16 as fastFloat32ToFloat16,
  portableFloat16ToFloat32,
  portableFloat32ToFloat16,
  roundToFloat16,
  widenToUnit,
} from "./float16.ts";
import { dot, normalizeInPlace } from "./math.ts";

/** The same properties for the exported conversions (a fast path for normal halves) and the bitwise ones. */
describe.each([
  ["the exported conversions", fastFloat32ToFloat16, fastFloat16ToFloat32],
  ["the portable conversions", portableFloat32ToFloat16, portableFloat16ToFloat32],
])("%s", (_, float32ToFloat16, float16ToFloat32) => {
  const toHalf = (x: number) => float32ToFloat16(new Float32Array([x]))[0];
  const fromHalf = (bits: number) => float16ToFloat32(new Uint16Array([bits]))[0];

  it("converts the landmark values exactly", () => {
    const cases: Array<[number, number]> = [
      [0, 0x0000],
      [-0, 0x8000],
      [1, 0x3c00],
      [-2, 0xc000],
      [0.5, 0x3800],
      [65504, 0x7bff], // largest finite half
      [2 ** -14, 0x0400], // smallest normal
      [2 ** -24, 0x0001], // smallest subnormal
      [Number.POSITIVE_INFINITY, 0x7c00],
      [Number.NEGATIVE_INFINITY, 0xfc00],
    ];
    for (const [value, bits] of cases) {
      expect(toHalf(value), String(value)).toBe(bits);
      expect(Object.is(fromHalf(bits), value), String(value)).toBe(true);
    }
  });

  it("rounds ties to even, in the normal and subnormal ranges", () => {
    expect(toHalf(1 + 2 ** -11)).toBe(0x3c00); // halfway between 1 and next: down to even
    expect(toHalf(1 + 3 * 2 ** -11)).toBe(0x3c02); // halfway between odd 0x3c01 and 0x3c02: up
    expect(toHalf(1 + 2 ** -11 + 2 ** -20)).toBe(0x3c01); // just above halfway
    expect(toHalf(2 ** -25)).toBe(0x0000); // halfway between 0 and the smallest subnormal
    expect(toHalf(2 ** -25 * 1.5)).toBe(0x0001);
    expect(toHalf(3 * 2 ** -25)).toBe(0x0002);
    expect(toHalf(2 ** -14 - 2 ** -26)).toBe(0x0400); // rounds up from subnormal into the smallest normal
  });

  it("overflows to infinity at the rounding boundary, not before", () => {
    expect(toHalf(65519)).toBe(0x7bff);
    expect(toHalf(65520)).toBe(0x7c00);
    expect(toHalf(-1e10)).toBe(0xfc00);
    expect(toHalf(1e-30)).toBe(0x0000);
    expect(toHalf(-1e-45)).toBe(0x8000); // float32 subnormal
  });

  it("keeps NaN a NaN (never infinity) in both directions", () => {
    const nanBits = toHalf(Number.NaN) ?? 0;
    expect(nanBits & 0x7c00).toBe(0x7c00);
    expect(nanBits & 0x3ff).not.toBe(0);
    // A float32 NaN whose payload lives only in the low bits must not truncate to infinity.
    const lowPayloadNaN = new Float32Array(new Uint32Array([0x7f800001]).buffer);
    expect((float32ToFloat16(lowPayloadNaN)[0] ?? 0) & 0x3ff).not.toBe(0);
    expect(fromHalf(0x7e00)).toBeNaN();
  });

  it("round-trips every one of the 65,536 half bit patterns (NaNs as NaN)", () => {
    const all = new Uint16Array(65536).map((_, i) => i);
    const back = float32ToFloat16(float16ToFloat32(all));
    for (let bits = 0; bits < 65536; bits++) {
      const isNaNPattern = (bits & 0x7c00) === 0x7c00 && (bits & 0x3ff) !== 0;
      if (isNaNPattern) expect(Number.isNaN(fromHalf(bits))).toBe(true);
      else if (back[bits] !== bits)
        expect.fail(`0x${bits.toString(16)} came back as 0x${back[bits]?.toString(16)}`);
    }
  });

  it("has relative error ≤ 2^-11 for every float32 in the normal half range", () => {
    fc.assert(
      fc.property(
        fc.float({ min: 2 ** -14, max: 65504, noNaN: true }),
        fc.boolean(),
        (magnitude, negative) => {
          const x = Math.fround(negative ? -magnitude : magnitude);
          const y = fromHalf(toHalf(x) ?? 0) ?? Number.NaN;
          expect(Math.abs(y - x) / Math.abs(x)).toBeLessThanOrEqual(2 ** -11);
        },
      ),
      { numRuns: 5000 },
    );
  });

  it("has absolute error ≤ 2^-25 (half a subnormal step) below the normal range", () => {
    fc.assert(
      fc.property(fc.float({ min: 0, max: 2 ** -14, noNaN: true }), (x) => {
        const y = fromHalf(toHalf(x) ?? 0) ?? Number.NaN;
        expect(Math.abs(y - x)).toBeLessThanOrEqual(2 ** -25);
      }),
    );
  });

  it.runIf(typeof Math.f16round === "function")("agrees with the runtime's Math.f16round", () => {
    fc.assert(
      fc.property(fc.float(), (x) => {
        const expected = Math.f16round(x);
        const actual = fromHalf(toHalf(x) ?? 0);
        expect(Object.is(actual, expected) || (Number.isNaN(actual) && Number.isNaN(expected))).toBe(true);
      }),
      { numRuns: 20_000 },
    );
  });

  it("converts views at an offset inside a larger buffer", () => {
    const buffer = new Float32Array([9, 1, 2, 9]);
    expect([...float32ToFloat16(buffer.subarray(1, 3))]).toEqual([0x3c00, 0x4000]);
  });
});

describe("the exported conversions, the bitwise ones and the engine's Float16Array", () => {
  type Float16ArrayLike = new (
    buffer: ArrayBufferLike,
  ) => { set(values: ArrayLike<number>): void } & ArrayLike<number>;
  const Engine = (globalThis as { Float16Array?: Float16ArrayLike }).Float16Array;
  const engineFloat32ToFloat16 = (values: Float32Array) => {
    const out = new Uint16Array(values.length);
    new (Engine as Float16ArrayLike)(out.buffer).set(values);
    return out;
  };
  const engineFloat16ToFloat32 = (halves: Uint16Array) =>
    Float32Array.from(new (Engine as Float16ArrayLike)(Uint16Array.from(halves).buffer));
  const isNaNHalf = (bits: number) => (bits & 0x7c00) === 0x7c00 && (bits & 0x3ff) !== 0;

  it("give the same bits for every half pattern and for random float32 bit patterns, NaN payloads included", () => {
    const halves = new Uint16Array(65536).map((_, i) => i);
    const asBits = (v: Float32Array) => [...new Uint32Array(v.buffer, v.byteOffset, v.length)];
    expect(asBits(fastFloat16ToFloat32(halves))).toEqual(asBits(portableFloat16ToFloat32(halves)));
    const words = new Uint32Array(200_000);
    let seed = 12345;
    for (let i = 0; i < words.length; i++) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      words[i] = seed;
    }
    // NaN payloads, the edges of the fast path (2^-14 and 2^15, each side) and the largest values that round up.
    words.set([
      0x7f800001, 0xffc00000, 0x7fbfffff, 0x00000001, 0x477fefff, 0x477ff000, 0x38800000, 0x387fffff,
      0xb8800000, 0x46ffffff, 0x47000000, 0xc6ffffff, 0x46fff000, 0x46ffefff,
    ]);
    const floats = new Float32Array(words.buffer);
    expect([...fastFloat32ToFloat16(floats)]).toEqual([...portableFloat32ToFloat16(floats)]);
    // At an offset inside a larger buffer too.
    expect([...fastFloat32ToFloat16(floats.subarray(3, 9))]).toEqual([
      ...portableFloat32ToFloat16(floats.subarray(3, 9)),
    ]);
    if (!Engine) return;
    // The engine may canonicalise NaNs; every other value must match it exactly.
    const engine = engineFloat32ToFloat16(floats);
    const fast = fastFloat32ToFloat16(floats);
    const firstDiff = fast.findIndex((bits, i) => bits !== engine[i] && !isNaNHalf(bits));
    expect(firstDiff, `0x${words[firstDiff]?.toString(16)}`).toBe(-1);
    const wide = asBits(engineFloat16ToFloat32(halves));
    const ours = asBits(fastFloat16ToFloat32(halves));
    expect(ours.filter((bits, i) => bits !== wide[i] && !isNaNHalf(i))).toEqual([]);
  });
});

describe("roundToFloat16", () => {
  it("equals the round trip through a half bit for bit: every half, its neighbours, and random float32 patterns", () => {
    const asBits = (v: Float32Array) => [...new Uint32Array(v.buffer, v.byteOffset, v.length)];
    const roundTrip = (v: Float32Array) => portableFloat16ToFloat32(portableFloat32ToFloat16(v));
    // Every half value and the float32s just around it and halfway to the next: where rounding decides.
    const halves = portableFloat16ToFloat32(new Uint16Array(65536).map((_, i) => i));
    const words = new Uint32Array(halves.buffer);
    const near = new Uint32Array(65536 * 5);
    for (let i = 0; i < 65536; i++)
      near.set(
        [
          words[i] as number,
          (words[i] as number) + 1,
          (words[i] as number) - 1,
          (words[i] as number) + 0x1000,
          (words[i] as number) + 0xfff,
        ],
        5 * i,
      );
    const random = new Uint32Array(300_000);
    let seed = 987654321;
    for (let i = 0; i < random.length; i++) {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      random[i] = seed;
    }
    for (const batch of [near, random]) {
      const floats = new Float32Array(batch.buffer);
      const expected = asBits(roundTrip(floats));
      const actual = asBits(roundToFloat16(floats));
      const firstDiff = actual.findIndex((bits, i) => bits !== expected[i] && !Number.isNaN(floats[i]));
      expect(firstDiff, `0x${batch[firstDiff]?.toString(16)}`).toBe(-1);
    }
    const nan = roundToFloat16(Float32Array.of(Number.NaN))[0];
    expect(nan).toBeNaN();
  });

  it("rounds a view at an offset inside a larger buffer", () => {
    const buffer = Float32Array.of(9, 0.1, 1 + 2 ** -11, 9);
    expect([...roundToFloat16(buffer.subarray(1, 3))]).toEqual([0.0999755859375, 1]);
  });
});

describe("roundToFloat16 in place and widenToUnit", () => {
  const randomHalves = (count: number, seed: number) => {
    let state = seed;
    return Uint16Array.from({ length: count }, (_, i) => {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      // Mostly the values of unit embeddings, with zeros, subnormals, infinities and NaNs mixed in.
      return i % 97 === 0 ? ([0, 0x8000, 0x0003, 0x7c00, 0x7e01][i % 5] as number) : (state >>> 16) & 0xb7ff;
    });
  };
  const bits = (v: Float32Array) => [...new Uint32Array(v.buffer, v.byteOffset, v.length)];

  it("rounding in place, or into a view, gives what rounding into a new array gives", () => {
    const values = portableFloat16ToFloat32(randomHalves(4096, 3)).map((x, i) => x * (1 + i * 1e-7));
    const expected = bits(roundToFloat16(values));
    const buffer = new Float32Array(values.length + 8);
    expect(bits(roundToFloat16(values, buffer.subarray(4, 4 + values.length)))).toEqual(expected);
    expect(bits(roundToFloat16(values, values))).toEqual(expected);
  });

  it("widenToUnit equals normalising the widened halves, bit for bit, and returns the result's dot with itself", () => {
    for (let trial = 0; trial < 200; trial++) {
      const dim = 1 + ((trial * 37) % 600);
      const halves = randomHalves(dim, trial);
      const expected = portableFloat16ToFloat32(halves);
      normalizeInPlace(expected);
      const out = new Float32Array(dim + 10);
      const selfDot = widenToUnit(halves, out, 5);
      const ours = out.subarray(5, 5 + dim);
      expect(bits(ours)).toEqual(bits(expected));
      expect(Object.is(selfDot, dot(ours, ours))).toBe(true);
    }
    // As the GPU tier answers: unit vectors rounded to float16, some components subnormal or zero (the fast path).
    let state = 99;
    for (const dim of [3, 128, 512, 513, 1024]) {
      const unit = Float32Array.from({ length: dim }, (_, i) => {
        state = (Math.imul(state, 1103515245) + 12345) >>> 0;
        const x = state / 2 ** 32 - 0.5;
        return i % 50 === 7 ? x * 2 ** -20 : i % 77 === 3 ? 0 : x;
      });
      normalizeInPlace(unit);
      const halves = fastFloat32ToFloat16(unit);
      const expected = portableFloat16ToFloat32(halves);
      normalizeInPlace(expected);
      const out = new Float32Array(dim);
      const selfDot = widenToUnit(halves, out, 0);
      expect(bits(out)).toEqual(bits(expected));
      expect(Object.is(selfDot, dot(out, out))).toBe(true);
    }
    const zero = new Float32Array(3);
    expect(widenToUnit(new Uint16Array(3), zero, 0)).toBe(0);
    expect([...zero]).toEqual([0, 0, 0]);
  });
});
