import { describe, expect, it } from "vitest";
import {
  cosineSimilarity,
  float16ToFloat32,
  float32ToFloat16,
  roundToFloat16,
} from "../../../src/vector/index.ts";
import { asStored, asStoredInPlace, decodeEmbedding, encodeEmbedding, fromHalves } from "./kv-codec.ts";

describe("KV value codec", () => {
  it("stores float16 with a cosine error below 1e-3 (random unit vectors, 512-d)", () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return (seed / 2 ** 31) * 2 - 1;
    };
    for (let trial = 0; trial < 50; trial++) {
      const v = asStored(Float32Array.from({ length: 512 }, random));
      const original = Float32Array.from(v, (x) => x * (1 + 1e-9));
      const decoded = decodeEmbedding(encodeEmbedding({ embedding: original, truncated: false }), 512)
        ?.embedding as Float32Array;
      expect(1 - cosineSimilarity(original, decoded)).toBeLessThan(1e-3);
      expect(encodeEmbedding({ embedding: original, truncated: false }).length).toBeLessThan(1400);
    }
  });

  it("treats malformed or mis-sized values as misses", () => {
    const value = encodeEmbedding({ embedding: new Float32Array([1, 0, 0, 0]), truncated: true });
    expect(decodeEmbedding(value, 4)).toEqual({ embedding: new Float32Array([1, 0, 0, 0]), truncated: true });
    expect(decodeEmbedding(value, 5)).toBeUndefined();
    expect(decodeEmbedding("h1:@@@", 4)).toBeUndefined();
    expect(decodeEmbedding("v0:AAAA", 2)).toBeUndefined();
    expect(decodeEmbedding(null, 4)).toBeUndefined();
  });
});

describe("the values served", () => {
  const bits = (v: Float32Array) => Array.from(new Uint32Array(v.buffer, v.byteOffset, v.length));
  const random = (seed: number) => () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 2 ** 32 - 0.5;
  };

  it("a GPU answer's float16 bits widened and renormalised equal rounding the widened values again, and KV's round trip", () => {
    const next = random(3);
    for (let trial = 0; trial < 100; trial++) {
      // As the GPU tier answers: a unit vector, rounded to float16.
      const unit = Float32Array.from({ length: 512 }, next);
      const norm = Math.hypot(...unit);
      const halves = float32ToFloat16(unit.map((x) => x / norm));
      const served = fromHalves(halves);
      expect(bits(served)).toEqual(bits(asStored(float16ToFloat32(halves))));
      const stored = decodeEmbedding(encodeEmbedding({ embedding: served, truncated: false }), 512);
      expect(bits(stored?.embedding as Float32Array)).toEqual(bits(served));
    }
  });

  it("asStoredInPlace gives asStored's bits in the array it is given", () => {
    const next = random(5);
    const v = Float32Array.from({ length: 512 }, next);
    const expected = bits(asStored(v));
    expect(bits(asStoredInPlace(v))).toEqual(expected);
    expect(bits(v)).toEqual(expected);
    expect(bits(roundToFloat16(v))).toEqual(bits(roundToFloat16(Float32Array.from(v))));
  });
});
