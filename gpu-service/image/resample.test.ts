import { describe, expect, it } from "vitest";
import { rng } from "../../test/support/test-images.ts";
import { computeTaps, PIL_FILTERS, resampleExact } from "./resample.ts";

const bicubic = PIL_FILTERS[3];

function randomImage(w: number, h: number, seed: number): Uint8Array {
  const r = rng(seed);
  return Uint8Array.from({ length: w * h * 3 }, () => Math.floor(r() * 256));
}

/** Smooth content: no overshoot past 0..255, so Pillow's clipping between passes never triggers. */
function smoothImage(w: number, h: number, seed: number): Uint8Array {
  const r = rng(seed);
  const [a, b, c] = [r() * 0.3, r() * 0.3, r() * 6];
  return Uint8Array.from({ length: w * h * 3 }, (_, i) => {
    const p = Math.floor(i / 3);
    const x = p % w;
    const y = Math.floor(p / w);
    return Math.round(128 + 80 * Math.sin(a * x + b * y + c + (i % 3)));
  });
}

/** A plain float64 separable resample with Pillow's weights: the rounding-free reference. */
function floatResize(src: Uint8Array, w: number, h: number, ow: number, oh: number): Float64Array {
  const ht = computeTaps(w, 0, w, ow, 0, ow, bicubic);
  const vt = computeTaps(h, 0, h, oh, 0, oh, bicubic);
  const tmp = new Float64Array(h * ow * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < ow; x++)
      for (let c = 0; c < 3; c++) {
        let s = 0;
        for (let t = 0; t < (ht.count[x] as number); t++)
          s +=
            (src[(y * w + (ht.first[x] as number) + t) * 3 + c] as number) *
            (ht.weights[x * ht.stride + t] as number);
        tmp[(y * ow + x) * 3 + c] = s;
      }
  const out = new Float64Array(oh * ow * 3);
  for (let y = 0; y < oh; y++)
    for (let x = 0; x < ow; x++)
      for (let c = 0; c < 3; c++) {
        let s = 0;
        for (let t = 0; t < (vt.count[y] as number); t++)
          s +=
            (tmp[(((vt.first[y] as number) + t) * ow + x) * 3 + c] as number) *
            (vt.weights[y * vt.stride + t] as number);
        out[(y * ow + x) * 3 + c] = s;
      }
  return out;
}

describe("computeTaps (Pillow's precompute_coeffs)", () => {
  it("weights sum to 1 and widen with the scale factor when shrinking (antialiasing)", () => {
    const down = computeTaps(1000, 0, 1000, 100, 0, 100, bicubic);
    const up = computeTaps(100, 0, 100, 1000, 0, 1000, bicubic);
    for (const t of [down, up]) {
      for (let i = 0; i < t.first.length; i++) {
        let s = 0;
        for (let k = 0; k < (t.count[i] as number); k++) s += t.weights[i * t.stride + k] as number;
        expect(s).toBeCloseTo(1, 12);
      }
    }
    expect(down.count[50]).toBe(40); // support 2 x scale 10, both sides
    expect(up.count[500]).toBe(4);
  });
});

describe("resampleExact", () => {
  it("is the identity when the size doesn't change (Pillow skips both passes)", () => {
    const src = randomImage(30, 20, 1);
    expect(resampleExact(src, 30, 20, 30, 20, { left: 0, top: 0, width: 30, height: 20 }, bicubic)).toEqual(
      src,
    );
  });

  it("stays within one level of a rounding-free resize, down and up", () => {
    for (const [w, h, ow, oh] of [
      [97, 61, 23, 17],
      [13, 9, 50, 41],
      [40, 40, 40, 13],
    ] as const) {
      const src = smoothImage(w, h, w * h);
      const exact = resampleExact(src, w, h, ow, oh, { left: 0, top: 0, width: ow, height: oh }, bicubic);
      const ref = floatResize(src, w, h, ow, oh);
      let worst = 0;
      for (let i = 0; i < exact.length; i++) {
        worst = Math.max(
          worst,
          Math.abs((exact[i] as number) - Math.min(255, Math.max(0, ref[i] as number))),
        );
      }
      expect(worst).toBeLessThanOrEqual(1.5);
    }
  });

  it("computes only the crop window, with the values of the full resize", () => {
    const src = randomImage(120, 80, 7);
    const full = resampleExact(src, 120, 80, 60, 40, { left: 0, top: 0, width: 60, height: 40 }, bicubic);
    const win = resampleExact(src, 120, 80, 60, 40, { left: 10, top: 5, width: 20, height: 30 }, bicubic);
    for (let y = 0; y < 30; y++) {
      for (let x = 0; x < 20; x++) {
        for (let c = 0; c < 3; c++)
          expect(win[(y * 20 + x) * 3 + c]).toBe(full[((y + 5) * 60 + x + 10) * 3 + c]);
      }
    }
  });

  it("fills the part of the window outside the image with zeros (torchvision's padding)", () => {
    const src = new Uint8Array(10 * 10 * 3).fill(200);
    const out = resampleExact(src, 10, 10, 10, 10, { left: -2, top: 0, width: 14, height: 10 }, bicubic);
    expect(out[0]).toBe(0);
    expect(out[2 * 3]).toBe(200);
    expect(out[13 * 3]).toBe(0);
  });

  it("upscales a single pixel to a constant image", () => {
    const out = resampleExact(
      Uint8Array.from([10, 20, 30]),
      1,
      1,
      7,
      7,
      { left: 0, top: 0, width: 7, height: 7 },
      bicubic,
    );
    for (let i = 0; i < 49; i++) expect(Array.from(out.subarray(i * 3, i * 3 + 3))).toEqual([10, 20, 30]);
  });
});
