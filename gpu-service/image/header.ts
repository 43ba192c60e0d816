/**
 * Width × height as the file's own header declares it, read without any decoder, so a decompression
 * bomb (a small file declaring a huge image) is refused before libvips sees it — even when the rest of
 * the file is garbage that would make the decoder fail with a less useful error. Pure.
 */

import type { AcceptedFormat } from "../../src/image-format/index.ts";
import type { Size } from "./geometry.ts";

const be16 = (b: Uint8Array, at: number) => ((b[at] as number) << 8) | (b[at + 1] as number);
const le16 = (b: Uint8Array, at: number) => (b[at] as number) | ((b[at + 1] as number) << 8);
const be32 = (b: Uint8Array, at: number) => be16(b, at) * 65536 + be16(b, at + 2);
const le32 = (b: Uint8Array, at: number) => le16(b, at) + le16(b, at + 2) * 65536;
const le24 = (b: Uint8Array, at: number) => le16(b, at) + (b[at + 2] as number) * 65536;

function jpegSize(b: Uint8Array): Size | null {
  let p = 2;
  while (p + 4 <= b.length) {
    if (b[p] !== 0xff) return null;
    const marker = b[p + 1] as number;
    if (marker === 0xff) {
      p++; // fill byte
      continue;
    }
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      p += 2;
      continue;
    }
    if (marker === 0xda || marker === 0xd9) return null; // scan or end before any frame header
    const length = be16(b, p + 2);
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof) return p + 9 <= b.length ? { width: be16(b, p + 7), height: be16(b, p + 5) } : null;
    p += 2 + length;
  }
  return null;
}

function webpSize(b: Uint8Array): Size | null {
  const chunk = String.fromCharCode(...b.subarray(12, 16));
  if (chunk === "VP8X" && b.length >= 30) return { width: le24(b, 24) + 1, height: le24(b, 27) + 1 };
  if (chunk === "VP8L" && b.length >= 25 && b[20] === 0x2f) {
    const bits = le32(b, 21);
    return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
  }
  if (chunk === "VP8 " && b.length >= 30)
    return { width: le16(b, 26) & 0x3fff, height: le16(b, 28) & 0x3fff };
  return null;
}

function tiffSize(b: Uint8Array): Size | null {
  const le = b[0] === 0x49;
  const u16 = (at: number) => (le ? le16(b, at) : be16(b, at));
  const u32 = (at: number) => (le ? le32(b, at) : be32(b, at));
  if (u16(2) !== 42) return null; // BigTIFF: leave it to the decoder's header read
  const ifd = u32(4);
  if (ifd + 2 > b.length) return null;
  let width = 0;
  let height = 0;
  const n = u16(ifd);
  for (let i = 0; i < n && ifd + 2 + 12 * (i + 1) <= b.length; i++) {
    const e = ifd + 2 + 12 * i;
    const tag = u16(e);
    const value = u16(e + 2) === 3 ? u16(e + 8) : u32(e + 8);
    if (tag === 256) width = value;
    if (tag === 257) height = value;
  }
  return width > 0 && height > 0 ? { width, height } : null;
}

function avifSize(b: Uint8Array): Size | null {
  // 'ispe' (image spatial extents): version/flags, then width and height as 32-bit big-endian.
  for (let i = 4; i + 16 <= b.length; i++) {
    if (b[i] === 0x69 && b[i + 1] === 0x73 && b[i + 2] === 0x70 && b[i + 3] === 0x65) {
      return { width: be32(b, i + 8), height: be32(b, i + 12) };
    }
  }
  return null;
}

/**
 * @example declaredSize(pngBytes, "png") // { width: 100000, height: 100000 } for a bomb
 * @returns null when the header can't be read (the decoder will then decide what the bytes are).
 */
export function declaredSize(b: Uint8Array, format: AcceptedFormat): Size | null {
  switch (format) {
    case "png":
      return b.length >= 24 ? { width: be32(b, 16), height: be32(b, 20) } : null;
    case "gif":
      return b.length >= 10 ? { width: le16(b, 6), height: le16(b, 8) } : null;
    case "jpeg":
      return jpegSize(b);
    case "webp":
      return webpSize(b);
    case "tiff":
      return tiffSize(b);
    case "avif":
      return avifSize(b);
  }
}
