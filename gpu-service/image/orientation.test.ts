/** EXIF orientations 1-8: phones store photos sideways and say so in EXIF; the model must see them upright. */
import type { Sharp } from "sharp";
import { describe, expect, it } from "vitest";
import { fixtureConfig, mae, rawRgb, syntheticRgb } from "../../test/support/test-images.ts";
import { preprocessImage } from "./pipeline.ts";

const config = fixtureConfig();
const W = 320;
const H = 240;
const upright = syntheticRgb(W, H, 3);

/** One sharp operation at a time (sharp reorders operations chained on one pipeline). */
async function apply(rgb: Uint8Array, w: number, h: number, op: (s: Sharp) => Sharp) {
  const { data, info } = await op(rawRgb(rgb, w, h))
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { rgb: new Uint8Array(data), w: info.width, h: info.height };
}

/** Stores the upright image the way a camera with `orientation` would: the inverse of the EXIF transform. */
async function stored(orientation: number) {
  const steps: Record<number, ((s: Sharp) => Sharp)[]> = {
    1: [],
    2: [(s) => s.flop()],
    3: [(s) => s.rotate(180)],
    4: [(s) => s.flip()],
    5: [(s) => s.rotate(90), (s) => s.flop()], // transpose
    6: [(s) => s.rotate(270)],
    7: [(s) => s.rotate(90), (s) => s.flip()], // transverse
    8: [(s) => s.rotate(90)],
  };
  let img = { rgb: upright, w: W, h: H };
  for (const op of steps[orientation] ?? []) img = await apply(img.rgb, img.w, img.h, op);
  return img;
}

async function encode(orientation: number, format: "png" | "jpeg" | "webp" | "tiff"): Promise<Uint8Array> {
  const s = await stored(orientation);
  const img = rawRgb(s.rgb, s.w, s.h).withMetadata({ orientation });
  if (format === "jpeg") return img.jpeg({ quality: 100, chromaSubsampling: "4:4:4" }).toBuffer();
  if (format === "webp") return img.webp({ lossless: true }).toBuffer();
  if (format === "tiff") return img.tiff({ compression: "lzw" }).toBuffer();
  return img.png().toBuffer();
}

describe("EXIF orientation", async () => {
  const base = await preprocessImage(await rawRgb(upright, W, H).png().toBuffer(), config);
  if (!base.ok) throw new Error(base.message);

  it.each([1, 2, 3, 4, 5, 6, 7, 8])(
    "orientation %i (PNG, lossless) gives the upright tensor exactly",
    async (o) => {
      const r = await preprocessImage(await encode(o, "png"), config);
      if (!r.ok) throw new Error(r.message);
      expect(r.info.orientation).toBe(o);
      expect([r.info.width, r.info.height]).toEqual([W, H]);
      expect(mae(r.pixels, base.pixels)).toBe(0);
    },
  );

  it.each([1, 3, 6, 8])("orientation %i (JPEG) gives the upright tensor up to compression", async (o) => {
    const r = await preprocessImage(await encode(o, "jpeg"), config);
    if (!r.ok) throw new Error(r.message);
    expect(r.info.orientation).toBe(o);
    expect(mae(r.pixels, base.pixels)).toBeLessThan(0.02);
  });

  it.each([
    [6, "webp"],
    [3, "tiff"],
  ] as const)("orientation %i is honoured in %s too", async (o, format) => {
    const r = await preprocessImage(await encode(o, format), config);
    if (!r.ok) throw new Error(r.message);
    expect(mae(r.pixels, base.pixels)).toBe(0);
  });
});
