/**
 * A small corpus of bad inputs, each of which must come back as a value with the right code — never a
 * throw, never a hang.
 */
import { describe, expect, it } from "vitest";
import { fixtureConfig, pngDeclaring, rawRgb, rng, syntheticRgb } from "../../test/support/test-images.ts";
import { preprocessImage } from "./pipeline.ts";

const config = fixtureConfig();
const text = (s: string) => new TextEncoder().encode(s);

const jpeg = await rawRgb(syntheticRgb(200, 150), 200, 150).jpeg().toBuffer();
const png = await rawRgb(syntheticRgb(200, 150), 200, 150).png().toBuffer();
const gif = await rawRgb(syntheticRgb(200, 150), 200, 150).gif().toBuffer();
const webp = await rawRgb(syntheticRgb(200, 150), 200, 150).webp().toBuffer();

/** A JPEG header whose SOF0 declares width × height, followed by nothing useful. */
function jpegDeclaring(width: number, height: number): Uint8Array {
  const sof = [0xff, 0xc0, 0, 17, 8, height >> 8, height & 255, width >> 8, width & 255, 3];
  for (let c = 1; c <= 3; c++) sof.push(c, 0x11, 0);
  return Uint8Array.from([0xff, 0xd8, ...sof, 0xff, 0xd9]);
}

const r = rng(42);
const corpus: [string, Uint8Array, string][] = [
  ["empty input", new Uint8Array(), "invalid_image"],
  ["random bytes", Uint8Array.from({ length: 4096 }, () => Math.floor(r() * 256)), "invalid_image"],
  ["plain text", text("definitely not an image"), "invalid_image"],
  ["truncated JPEG (first half)", jpeg.subarray(0, jpeg.length >> 1), "invalid_image"],
  ["JPEG header only", jpeg.subarray(0, 200), "invalid_image"],
  ["truncated PNG", png.subarray(0, png.length >> 1), "invalid_image"],
  ["PNG signature only", png.subarray(0, 8), "invalid_image"],
  ["truncated GIF", gif.subarray(0, 40), "invalid_image"],
  ["truncated WebP", webp.subarray(0, webp.length >> 2), "invalid_image"],
  [
    "JPEG magic then garbage",
    Uint8Array.from([0xff, 0xd8, 0xff, ...text("garbage garbage garbage")]),
    "invalid_image",
  ],
  ["PNG declaring 100000 x 100000 (decompression bomb)", pngDeclaring(100_000, 100_000), "image_too_large"],
  ["JPEG declaring 60000 x 60000", jpegDeclaring(60_000, 60_000), "image_too_large"],
  [
    "SVG",
    text(
      '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>',
    ),
    "unsupported_format",
  ],
  [
    "SVG with an XML prolog",
    text('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>'),
    "unsupported_format",
  ],
  [
    "SVG referencing an external image",
    text(
      '<svg xmlns:xlink="http://www.w3.org/1999/xlink"><image xlink:href="http://example.invalid/x.png"/></svg>',
    ),
    "unsupported_format",
  ],
  ["PDF header", text("%PDF-1.4\n1 0 obj<<>>endobj\n"), "unsupported_format"],
  ["HTML page", text("<!DOCTYPE html><html><body><img src=x></body></html>"), "unsupported_format"],
  [
    "HEIC (no HEVC decoder)",
    Uint8Array.from([0, 0, 0, 24, ...text("ftypheic"), 0, 0, 0, 0, ...text("mif1heic")]),
    "unsupported_format",
  ],
  ["BMP", Uint8Array.from([...text("BM"), ...new Array(60).fill(0)]), "unsupported_format"],
];

describe("bad images come back as error values", () => {
  it.each(corpus)("%s -> %s", async (_name, bytes, code) => {
    const res = await preprocessImage(bytes, config);
    expect(res.ok).toBe(false);
    if (!res.ok) {
      expect(res.code).toBe(code);
      expect(res.message.length).toBeGreaterThan(0);
    }
  });
});

describe("limits", () => {
  it("refuses more bytes than the byte limit before looking at them", async () => {
    const res = await preprocessImage(png, config, { maxBytes: 1000, maxPixels: 50_000_000 });
    expect(res).toMatchObject({ ok: false, code: "image_too_large" });
  });

  it("refuses more pixels than the pixel limit from the header", async () => {
    const res = await preprocessImage(png, config, { maxBytes: 10 << 20, maxPixels: 200 * 150 - 1 });
    expect(res).toMatchObject({ ok: false, code: "image_too_large" });
    const ok = await preprocessImage(png, config, { maxBytes: 10 << 20, maxPixels: 200 * 150 });
    expect(ok.ok).toBe(true);
  });

  it("treats a bad limits object as a bug (throws), not as an image error", async () => {
    await expect(preprocessImage(png, config, { maxBytes: 0, maxPixels: 1 })).rejects.toThrow(RangeError);
  });

  it("rejects a slot that doesn't fit the tensor, as a bug", async () => {
    const { preprocessImageInto } = await import("./pipeline.ts");
    await expect(preprocessImageInto(png, config, new Float32Array(10), 0)).rejects.toThrow(RangeError);
  });
});

describe("corrupted files never throw", () => {
  it("byte flips and truncations of every format give ok or a code from the closed set", async () => {
    const { IMAGE_ERROR_CODES } = await import("./errors.ts");
    const base = rawRgb(syntheticRgb(120, 90, 9), 120, 90);
    const seeds = await Promise.all([
      base.clone().jpeg().toBuffer(),
      base.clone().png().toBuffer(),
      base.clone().gif().toBuffer(),
      base.clone().webp().toBuffer(),
      base.clone().tiff().toBuffer(),
      base.clone().avif().toBuffer(),
    ]);
    const rand = rng(7);
    const codes = new Set<string>();
    for (const seed of seeds) {
      for (let trial = 0; trial < 8; trial++) {
        const bytes = Uint8Array.from(seed);
        // Keep the magic bytes so the decoders, not the sniffer, meet the damage.
        for (let k = 0; k < 1 + trial * 3; k++)
          bytes[16 + Math.floor(rand() * (bytes.length - 16))] = Math.floor(rand() * 256);
        const cut = trial % 2 ? bytes.subarray(0, 16 + Math.floor(rand() * (bytes.length - 16))) : bytes;
        const res = await preprocessImage(cut, config);
        if (!res.ok) {
          expect(IMAGE_ERROR_CODES).toContain(res.code);
          codes.add(res.code);
        } else {
          expect(res.pixels.every(Number.isFinite)).toBe(true);
        }
      }
    }
    expect(codes.has("invalid_image")).toBe(true);
  });
});
