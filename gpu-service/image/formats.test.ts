/**
 * Every accepted format decodes, and every colour layout reaches the model as PIL's `convert("RGB")` would
 * make it: alpha dropped (not composited, not premultiplied), grey and palette expanded, 16 bits reduced
 * as PIL does, CMYK by PIL's formula, GIF transparency as the palette colour.
 */
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import {
  fixtureConfig,
  handmadeGif,
  mae,
  png16,
  rawRgb,
  rng,
  syntheticRgb,
} from "../../test/support/test-images.ts";
import { avifColour, bilinearChroma } from "./avif.ts";
import { cmykToRgb } from "./decode.ts";
import { type PreprocessResult, preprocessImage } from "./pipeline.ts";

const config = fixtureConfig();
const W = 300;
const H = 200;
const rgb = syntheticRgb(W, H, 5);

async function tensor(bytes: Uint8Array): Promise<Float32Array> {
  const r: PreprocessResult = await preprocessImage(bytes, config);
  if (!r.ok) throw new Error(`${r.code}: ${r.message}`);
  expect(r.pixels.length).toBe(3 * 224 * 224);
  expect(r.pixels.every(Number.isFinite)).toBe(true);
  return r.pixels;
}
const pngOf = (data: Uint8Array, w = W, h = H) => rawRgb(data, w, h).png().toBuffer();
const reference = await tensor(await pngOf(rgb));

describe("each accepted format decodes", () => {
  it.each([
    ["jpeg", "JPEG 4:2:0", () => rawRgb(rgb, W, H).jpeg({ quality: 95 }).toBuffer(), 0.05],
    [
      "jpeg",
      "progressive JPEG 4:4:4",
      () => rawRgb(rgb, W, H).jpeg({ quality: 95, progressive: true, chromaSubsampling: "4:4:4" }).toBuffer(),
      0.05,
    ],
    ["png", "PNG", () => rawRgb(rgb, W, H).png().toBuffer(), 0],
    ["webp", "lossless WebP", () => rawRgb(rgb, W, H).webp({ lossless: true }).toBuffer(), 0],
    ["webp", "lossy WebP", () => rawRgb(rgb, W, H).webp({ quality: 90 }).toBuffer(), 0.06],
    ["gif", "GIF (palette-quantised)", () => rawRgb(rgb, W, H).gif().toBuffer(), 0.15],
    ["avif", "AVIF", () => rawRgb(rgb, W, H).avif({ quality: 90 }).toBuffer(), 0.06],
    ["tiff", "TIFF (LZW)", () => rawRgb(rgb, W, H).tiff({ compression: "lzw" }).toBuffer(), 0],
    ["tiff", "TIFF (deflate)", () => rawRgb(rgb, W, H).tiff({ compression: "deflate" }).toBuffer(), 0],
  ] as const)("%s: %s", async (format, _label, make, tolerance) => {
    const bytes = await make();
    const r = await preprocessImage(bytes, config);
    if (!r.ok) throw new Error(r.message);
    expect(r.info.format).toBe(format);
    expect(mae(r.pixels, reference)).toBeLessThanOrEqual(tolerance);
  });

  it("uses the first frame of an animated GIF and WebP, the first page of a TIFF", async () => {
    const second = syntheticRgb(W, H, 99);
    const frames = [await pngOf(rgb), await pngOf(second)];
    for (const out of ["gif", "webp", "tiff"] as const) {
      const joined = sharp(frames, { join: { animated: true } });
      const bytes = await (out === "gif"
        ? joined.gif()
        : out === "webp"
          ? joined.webp({ lossless: true })
          : joined.tiff({ compression: "lzw" })
      ).toBuffer();
      const t = await tensor(bytes);
      expect(mae(t, reference)).toBeLessThan(out === "gif" ? 0.15 : 1e-6);
    }
  });
});

describe("colour layouts, the way PIL converts them", () => {
  it("drops alpha without compositing or premultiplying: colour under alpha 0 is kept", async () => {
    const rgba = new Uint8Array(W * H * 4);
    const r = rng(8);
    for (let i = 0; i < W * H; i++) {
      rgba.set(rgb.subarray(i * 3, i * 3 + 3), i * 4);
      rgba[i * 4 + 3] = r() < 0.3 ? 0 : Math.floor(r() * 256);
    }
    const png = await rawRgb(rgba, W, H, 4).png().toBuffer();
    expect(await tensor(png)).toEqual(reference);
    const webp = await rawRgb(rgba, W, H, 4).webp({ lossless: true, exact: true }).toBuffer();
    expect(await tensor(webp)).toEqual(reference);
  });

  it("expands grey and grey+alpha to three equal channels", async () => {
    const grey = Uint8Array.from({ length: W * H }, (_, i) => rgb[i * 3 + 1] as number);
    const asRgb = Uint8Array.from({ length: W * H * 3 }, (_, i) => grey[Math.floor(i / 3)] as number);
    const want = await tensor(await pngOf(asRgb));
    expect(await tensor(await rawRgb(grey, W, H, 1).png().toBuffer())).toEqual(want);
    const ga = Uint8Array.from({ length: W * H * 2 }, (_, i) => (i % 2 ? 128 : (grey[i >> 1] as number)));
    expect(await tensor(await rawRgb(ga, W, H, 2).png().toBuffer())).toEqual(want);
  });

  it("expands palette images to their palette colours", async () => {
    const pal = await rawRgb(rgb, W, H).png({ palette: true, colours: 64 }).toBuffer();
    const { data } = await sharp(pal).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    expect(await tensor(pal)).toEqual(await tensor(await pngOf(new Uint8Array(data))));
  });

  it("keeps the high byte of 16-bit RGB (PIL reads 16-bit PNGs as 8-bit)", async () => {
    const r = rng(16);
    const s16 = Uint16Array.from(
      { length: W * H * 3 },
      (_, i) => ((rgb[i] as number) << 8) | Math.floor(r() * 256),
    );
    expect(await tensor(png16(W, H, 2, s16))).toEqual(reference);
    const rgba16 = Uint16Array.from({ length: W * H * 4 }, (_, i) =>
      i % 4 === 3 ? 1000 : (s16[(i >> 2) * 3 + (i % 4)] as number),
    );
    expect(await tensor(png16(W, H, 6, rgba16))).toEqual(reference);
  });

  it("clips 16-bit grey to 255 as PIL's I;16 → RGB conversion does (so typical 16-bit greys turn white)", async () => {
    const dark = Uint16Array.from({ length: W * H }, (_, i) => rgb[i * 3] as number);
    const asRgb = Uint8Array.from({ length: W * H * 3 }, (_, i) => dark[Math.floor(i / 3)] as number);
    expect(await tensor(png16(W, H, 0, dark))).toEqual(await tensor(await pngOf(asRgb)));
    const bright = Uint16Array.from({ length: W * H }, (_, i) => 256 + (rgb[i * 3] as number) * 200);
    const white = await tensor(await pngOf(new Uint8Array(W * H * 3).fill(255)));
    expect(await tensor(png16(W, H, 0, bright))).toEqual(white);
  });

  it("converts CMYK with PIL's formula, not an ICC transform", async () => {
    const cmykJpeg = await rawRgb(rgb, W, H).toColourspace("cmyk").jpeg({ quality: 95 }).toBuffer();
    const { data, info } = await sharp(cmykJpeg)
      .pipelineColourspace("cmyk")
      .toColourspace("cmyk")
      .raw()
      .toBuffer({ resolveWithObject: true });
    expect(info.channels).toBe(4);
    expect(await tensor(cmykJpeg)).toEqual(await tensor(await pngOf(cmykToRgb(data, 4))));
  });

  it("shows GIF transparency and canvas outside the first frame as PIL does (the palette colour)", async () => {
    const palette = Array.from({ length: 256 }, (_, i): [number, number, number] => [
      (i * 10) % 256,
      (i * 37) % 256,
      (i * 91) % 256,
    ]);
    const [cw, ch, fx, fy, fw, fh] = [64, 48, 8, 6, 40, 30];
    const r = rng(3);
    const indices = Uint8Array.from({ length: fw * fh }, () => [1, 2, 5, 9][Math.floor(r() * 4)] as number);
    for (const transparent of [5, undefined]) {
      const gif = handmadeGif({ canvas: [cw, ch], frame: [fx, fy, fw, fh], indices, palette, transparent });
      const want = new Uint8Array(cw * ch * 3);
      for (let y = 0; y < ch; y++) {
        for (let x = 0; x < cw; x++) {
          const inside = x >= fx && x < fx + fw && y >= fy && y < fy + fh;
          const idx = inside ? (indices[(y - fy) * fw + (x - fx)] as number) : (transparent ?? 0);
          want.set(palette[idx] as number[], (y * cw + x) * 3);
        }
      }
      expect(await tensor(gif)).toEqual(await tensor(await pngOf(want, cw, ch)));
    }
  });
});

describe("AVIF chroma (libheif repeats samples, PIL's libavif interpolates)", () => {
  it("reads the stream's subsampling and matrix", async () => {
    const avif = await rawRgb(rgb, W, H).avif({ quality: 80, chromaSubsampling: "4:2:0" }).toBuffer();
    expect(avifColour(avif)).toMatchObject({ subsampledX: true, subsampledY: true });
    const full = await rawRgb(rgb, W, H).avif({ quality: 80, chromaSubsampling: "4:4:4" }).toBuffer();
    expect(avifColour(full)).toBeNull();
  });

  it("re-interpolates block-repeated chroma and leaves other images alone", () => {
    const w = 8;
    const h = 8;
    // Grey luma 128, Cr rising left to right, sampled once per 2x2 block as libheif shows it.
    const block = new Uint8Array(w * h * 3);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const cr = 8 * Math.floor(x / 2) - 12;
        block.set([Math.round(128 + 1.402 * cr), Math.round(128 - 0.714136 * cr), 128], (y * w + x) * 3);
      }
    }
    const c = { subsampledX: true, subsampledY: true, kr: 0.299, kb: 0.114 };
    const out = bilinearChroma(block, w, h, c);
    // Inside the image, pixel 2 sits between samples 0 and 1 (3/4 of sample 1, 1/4 of sample 0).
    expect(out[2 * 3]).toBeLessThan(block[2 * 3] as number);
    expect(out[3 * 3]).toBeGreaterThan(block[3 * 3] as number);
    const noise = Uint8Array.from({ length: w * h * 3 }, (_, i) => (i * 97) % 251);
    expect(bilinearChroma(noise, w, h, c)).toBe(noise);
  });
});
