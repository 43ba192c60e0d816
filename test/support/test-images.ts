/**
 * Test helpers: images made in memory (the tests never copy /work/shared data into the repo), the
 * goldens' location, and MAE. Imported by the *.test.ts files only.
 */
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import sharp, { type Sharp } from "sharp";
import { type PreprocessConfig, readPreprocessConfig } from "../../gpu-service/image/config.ts";

export const REPO_ROOT = path.resolve(import.meta.dirname, "../..");
/** Reference tensors from openai/CLIP's PIL transform, beside the repo, never inside it. */
export const GOLDEN_DIR = path.resolve(REPO_ROOT, "../shared/clip/preprocess");

export function fixtureConfig(): PreprocessConfig {
  const file = path.join(REPO_ROOT, "gpu-service", "image", "defaults", "preprocessor_config.json");
  return readPreprocessConfig(JSON.parse(fs.readFileSync(file, "utf8")));
}

export function mae(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new RangeError(`lengths differ: ${a.length} vs ${b.length}`);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs((a[i] as number) - (b[i] as number));
  return s / a.length;
}

/** Deterministic pseudo-random numbers (xorshift32), so generated images are the same every run. */
export function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

/**
 * A photo-like RGB image: smooth colour gradients, a few discs and mild noise, with a distinct top-left
 * corner so orientation mistakes show.
 */
export function syntheticRgb(width: number, height: number, seed = 1): Uint8Array {
  const rand = rng(seed);
  const discs = Array.from({ length: 6 }, () => ({
    x: rand() * width,
    y: rand() * height,
    r: (0.1 + 0.25 * rand()) * Math.min(width, height),
    c: [rand() * 255, rand() * 255, rand() * 255],
  }));
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      let r = (255 * x) / width;
      let g = (255 * y) / height;
      let b = 128 + 100 * Math.sin((x + 2 * y) / 9);
      for (const d of discs) {
        if ((x - d.x) ** 2 + (y - d.y) ** 2 < d.r * d.r) [r, g, b] = d.c as [number, number, number];
      }
      if (x < width / 5 && y < height / 5) [r, g, b] = [250, 20, 20];
      const n = (rand() - 0.5) * 16;
      out[i] = Math.max(0, Math.min(255, Math.round(r + n)));
      out[i + 1] = Math.max(0, Math.min(255, Math.round(g + n)));
      out[i + 2] = Math.max(0, Math.min(255, Math.round(b + n)));
    }
  }
  return out;
}

export function rawRgb(rgb: Uint8Array, width: number, height: number, channels: 1 | 2 | 3 | 4 = 3): Sharp {
  return sharp(rgb, { raw: { width, height, channels } });
}

/** A PNG whose header declares any size, with a tiny (invalid) body: a decompression-bomb stand-in. */
export function pngDeclaring(width: number, height: number): Uint8Array {
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", zlib.deflateSync(Buffer.alloc(1024))),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

/**
 * A GIF written by hand (sharp can't place a first frame off-canvas): 256-colour global palette, one
 * frame at (left, top), optional transparent index. LZW stays uncompressed: a clear code every 254 codes
 * keeps the code width at 9 bits.
 */
export function handmadeGif(opts: {
  canvas: [number, number];
  frame: [number, number, number, number];
  indices: Uint8Array;
  palette: [number, number, number][];
  transparent?: number;
}): Uint8Array {
  const [cw, ch] = opts.canvas;
  const [left, top, fw, fh] = opts.frame;
  const bytes: number[] = [...Buffer.from("GIF89a", "latin1")];
  const u16 = (v: number) => bytes.push(v & 255, v >> 8);
  u16(cw);
  u16(ch);
  bytes.push(0xf7, 0, 0);
  for (let i = 0; i < 256; i++) bytes.push(...(opts.palette[i] ?? [0, 0, 0]));
  if (opts.transparent !== undefined) bytes.push(0x21, 0xf9, 4, 1, 0, 0, opts.transparent, 0);
  bytes.push(0x2c);
  u16(left);
  u16(top);
  u16(fw);
  u16(fh);
  bytes.push(0);
  const codes = [256];
  let run = 0;
  for (const v of opts.indices) {
    codes.push(v);
    if (++run === 254) {
      codes.push(256);
      run = 0;
    }
  }
  codes.push(257);
  const packed: number[] = [];
  let acc = 0;
  let bits = 0;
  for (const c of codes) {
    acc |= c << bits;
    bits += 9;
    while (bits >= 8) {
      packed.push(acc & 255);
      acc >>>= 8;
      bits -= 8;
    }
  }
  if (bits > 0) packed.push(acc & 255);
  bytes.push(8);
  for (let i = 0; i < packed.length; i += 255) {
    const part = packed.slice(i, i + 255);
    bytes.push(part.length, ...part);
  }
  bytes.push(0, 0x3b);
  return new Uint8Array(bytes);
}

/** A 16-bit PNG written by hand (colour type 0 grey, 2 RGB, 4 grey+alpha, 6 RGBA). */
export function png16(
  width: number,
  height: number,
  colourType: 0 | 2 | 4 | 6,
  samples: Uint16Array,
): Uint8Array {
  const channels = { 0: 1, 2: 3, 4: 2, 6: 4 }[colourType];
  const raw = Buffer.alloc(height * (1 + width * channels * 2));
  for (let y = 0, o = 0; y < height; y++) {
    raw[o++] = 0;
    for (let i = 0; i < width * channels; i++, o += 2)
      raw.writeUInt16BE(samples[y * width * channels + i] as number, o);
  }
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([16, colourType, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", zlib.deflateSync(raw)),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}
