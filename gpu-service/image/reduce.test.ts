/**
 * The fast paths (JPEG shrink-on-load; libvips' cubic pre-reduction) against our exact path, which
 * reproduces the PIL reference bit for bit on the goldens. Content: gradients, discs and a stripe pattern
 * ~56 px long at full size — mid frequencies, where prefilter differences show most.
 */
import { describe, expect, it } from "vitest";
import { fixtureConfig, mae, rawRgb, syntheticRgb } from "../../test/support/test-images.ts";
import type { Probe } from "./decode.ts";
import { preprocessImage } from "./pipeline.ts";
import { MIN_REMAINING_AFTER_DCT, planReduce } from "./reduce.ts";

const config = fixtureConfig();
const BUDGET = 0.005; // half the 0.01 bound: the fast paths must leave margin

function probe(over: Partial<Probe>): Probe {
  return {
    format: "jpeg",
    hasAlpha: false,
    stored: { width: 4032, height: 3024 },
    orientation: 1,
    channels: 3,
    space: "srgb",
    depth: "uchar",
    chromaSubsampling: "4:2:0",
    ...over,
  };
}
const plan = (p: Probe) => {
  const w = p.stored.width;
  const h = p.stored.height;
  const long = Math.trunc((224 * Math.max(w, h)) / Math.min(w, h));
  return planReduce(
    p,
    p.stored,
    w <= h ? { width: 224, height: long } : { width: long, height: 224 },
    config,
  );
};

describe("planReduce", () => {
  it("decodes a 12 MP 4:2:0 JPEG at 1/2 and leaves MIN_REMAINING_AFTER_DCT for the exact resampler", () => {
    const p = plan(probe({}));
    expect(p?.k).toBe(2);
    expect(p?.decode.shrinkOnLoad).toBe(true);
    const remaining = (p?.decode.target.height ?? 0) / 224;
    expect(remaining).toBeGreaterThanOrEqual(0.98 * MIN_REMAINING_AFTER_DCT);
  });

  it("uses libvips' cubic only (full decode) where DCT scaling isn't modelled or leaves too little", () => {
    expect(plan(probe({ chromaSubsampling: "4:2:2" }))?.k).toBe(1);
    expect(plan(probe({ format: "png", chromaSubsampling: undefined }))?.k).toBe(1);
    expect(plan(probe({ stored: { width: 3000, height: 2000 } }))?.k).toBe(1);
  });

  it("decodes in full and resamples exactly below MIN_FACTOR_FOR_PRE_REDUCTION, where the pre-reduction costs more than it saves", () => {
    // 1536 / 224 = 6.9 and 1792 / 224 = 8: just below and at the factor.
    expect(plan(probe({ stored: { width: 2048, height: 1536 } }))).toBeNull();
    expect(
      plan(probe({ format: "png", chromaSubsampling: undefined, stored: { width: 2048, height: 1536 } })),
    ).toBeNull();
    expect(plan(probe({ stored: { width: 2389, height: 1792 } }))?.k).toBe(1);
  });

  it("keeps the exact path for small images, alpha, CMYK, 16-bit, GIF, AVIF and non-bicubic configs", () => {
    expect(plan(probe({ stored: { width: 800, height: 600 } }))).toBeNull();
    expect(plan(probe({ hasAlpha: true, format: "png" }))).toBeNull();
    expect(plan(probe({ space: "cmyk", channels: 4 }))).toBeNull();
    expect(plan(probe({ format: "png", depth: "ushort" }))).toBeNull();
    expect(plan(probe({ format: "gif" }))).toBeNull();
    expect(plan(probe({ format: "avif" }))).toBeNull();
    const bilinear = { ...config, resample: 2 as const };
    expect(
      planReduce(probe({}), { width: 4032, height: 3024 }, { width: 298, height: 224 }, bilinear),
    ).toBeNull();
  });
});

describe("fast paths stay within half the bound of the exact path", async () => {
  const big = syntheticRgb(4031, 3023, 11); // odd sizes: the scaled decode drops a partial pixel
  const cases: [string, () => Promise<Uint8Array>, string][] = [
    [
      "12 MP JPEG 4:2:0, odd size",
      () => rawRgb(big, 4031, 3023).jpeg({ quality: 90 }).toBuffer(),
      "shrink-on-load",
    ],
    [
      "12 MP JPEG, EXIF orientation 6",
      () => rawRgb(big, 4031, 3023).jpeg({ quality: 90 }).withMetadata({ orientation: 6 }).toBuffer(),
      "shrink-on-load",
    ],
    [
      "12 MP JPEG, EXIF orientation 3",
      () => rawRgb(big, 4031, 3023).jpeg({ quality: 90 }).withMetadata({ orientation: 3 }).toBuffer(),
      "shrink-on-load",
    ],
    [
      "12 MP JPEG 4:4:4",
      () => rawRgb(big, 4031, 3023).jpeg({ quality: 90, chromaSubsampling: "4:4:4" }).toBuffer(),
      "shrink-on-load",
    ],
    [
      "12 MP greyscale JPEG",
      () => rawRgb(big, 4031, 3023).greyscale().jpeg({ quality: 90 }).toBuffer(),
      "shrink-on-load",
    ],
    [
      "3 MP JPEG (factor 6.9: below MIN_FACTOR_FOR_PRE_REDUCTION, decoded in full and resampled exactly)",
      () => rawRgb(big, 4031, 3023).resize(2048, 1536).jpeg({ quality: 90 }).toBuffer(),
      "exact",
    ],
    [
      "6 MP JPEG",
      () => rawRgb(big, 4031, 3023).resize(3000, 2000).jpeg({ quality: 90 }).toBuffer(),
      "pre-reduced",
    ],
    [
      "6 MP JPEG, EXIF orientation 8",
      () =>
        rawRgb(big, 4031, 3023)
          .resize(3000, 2000)
          .jpeg({ quality: 90 })
          .withMetadata({ orientation: 8 })
          .toBuffer(),
      "pre-reduced",
    ],
    [
      "12 MP PNG, EXIF orientation 6",
      () => rawRgb(big, 4031, 3023).png({ compressionLevel: 1 }).withMetadata({ orientation: 6 }).toBuffer(),
      "pre-reduced",
    ],
    [
      "6 MP PNG",
      () => rawRgb(big, 4031, 3023).resize(3000, 2000).png({ compressionLevel: 1 }).toBuffer(),
      "pre-reduced",
    ],
  ];
  it.each(cases)("%s", async (_name, make, path) => {
    const bytes = await make();
    const limits = { maxBytes: 64 << 20, maxPixels: 50_000_000 }; // an uncompressed-ish 12 MP PNG is > 10 MiB
    const fast = await preprocessImage(bytes, config, limits);
    const exact = await preprocessImage(bytes, config, limits, { exact: true });
    if (!fast.ok) throw new Error(fast.message);
    if (!exact.ok) throw new Error(exact.message);
    expect(fast.info.path).toBe(path);
    expect(exact.info.path).toBe("exact");
    const err = mae(fast.pixels, exact.pixels);
    console.log(`fast path ${_name.padEnd(32)} ${fast.info.path.padEnd(15)} MAE vs exact ${err.toFixed(5)}`);
    expect(err).toBeLessThanOrEqual(BUDGET);
  });
});
