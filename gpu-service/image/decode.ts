/**
 * The only file that touches sharp: header probe, then decode to 8-bit RGB the way PIL's
 * `Image.open(...)` + `exif_transpose` + `convert("RGB")` sees the image. sharp runs on libuv's threadpool,
 * so none of this blocks the event loop.
 *
 * Where libvips' defaults differ from PIL's, we follow PIL:
 * - ICC profiles are ignored (PIL does not colour-manage; libvips would convert to sRGB).
 * - Alpha is dropped, not composited or premultiplied (`convert("RGB")` keeps the stored colour).
 * - CMYK uses PIL's naive formula, not an ICC transform.
 * - A GIF's transparent pixels show their palette colour (PIL keeps the first frame as palette indices).
 * - AVIF chroma is interpolated bilinearly as libavif (PIL's decoder) does, not repeated as libheif does.
 * - 16-bit greyscale without alpha is clipped to 255, as PIL's `I;16` to RGB conversion does; other
 *   16-bit images keep the high byte, as PIL's 16-bit PNG modes do.
 */
import sharp, { type Metadata, type Sharp, type SharpOptions } from "sharp";
import type { AcceptedFormat } from "../../src/image-format/index.ts";
import { avifColour, bilinearChroma } from "./avif.ts";
import type { ImageErrorCode, ImageLimits } from "./errors.ts";
import { orientedSize, type Size } from "./geometry.ts";
import { type GifFirstFrame, gifFirstFrame, pilFirstFrame } from "./gif.ts";

export interface Probe {
  format: AcceptedFormat;
  hasAlpha: boolean;
  /** Stored size (before EXIF orientation). */
  stored: Size;
  /** EXIF orientation 1..8 (1 when absent). */
  orientation: number;
  channels: number;
  space: string;
  depth: string;
  /** e.g. "4:2:0" for JPEG; undefined otherwise. */
  chromaSubsampling: string | undefined;
}

export interface Rgb8 {
  data: Uint8Array;
  width: number;
  height: number;
}

export class DecodeError extends Error {
  override name = "DecodeError";
  readonly code: ImageErrorCode;
  constructor(code: ImageErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

function loadOptions(limits: ImageLimits): SharpOptions {
  return {
    autoOrient: true,
    ignoreIcc: true,
    // 'error' rejects truncated and corrupt data as PIL does, but tolerates libjpeg's warnings
    // (e.g. extraneous bytes before a marker) that PIL also ignores.
    failOn: "error",
    limitInputPixels: Math.max(1, Math.floor(limits.maxPixels)),
    pages: 1,
    page: 0,
  };
}

/** Maps a libvips failure to our closed set; the input format was already recognised by its bytes. */
function decodeFailure(err: unknown): DecodeError {
  const message = err instanceof Error ? err.message : String(err);
  if (/pixel limit|too large|exceeds/i.test(message)) {
    return new DecodeError("image_too_large", `image exceeds the pixel limit (${message.trim()})`);
  }
  if (/unsupported image format|compression format has not been built in|no known loader/i.test(message)) {
    return new DecodeError("unsupported_format", `decoder not available for this image (${message.trim()})`);
  }
  return new DecodeError("invalid_image", `image could not be decoded (${message.trim()})`);
}

/** Reads the header only: no pixel data is decompressed here. */
export async function probe(bytes: Uint8Array, format: AcceptedFormat, limits: ImageLimits): Promise<Probe> {
  let meta: Metadata;
  try {
    meta = await sharp(bytes, { ...loadOptions(limits), limitInputPixels: false }).metadata();
  } catch (err) {
    throw decodeFailure(err);
  }
  const width = meta.width ?? 0;
  const height = meta.pageHeight ?? meta.height ?? 0;
  if (width < 1 || height < 1) throw new DecodeError("invalid_image", "image header has no dimensions");
  return {
    format,
    stored: { width, height },
    orientation: meta.orientation && meta.orientation >= 1 && meta.orientation <= 8 ? meta.orientation : 1,
    hasAlpha: meta.hasAlpha ?? false,
    channels: meta.channels ?? 3,
    space: meta.space ?? "srgb",
    depth: meta.depth ?? "uchar",
    chromaSubsampling: meta.chromaSubsampling,
  };
}

function isGrey16WithoutAlpha(p: Probe): boolean {
  return p.channels === 1 && (p.space === "grey16" || p.depth === "ushort");
}

/** A libvips pre-reduction to `target` (oriented coordinates), optionally with JPEG shrink-on-load. */
export interface PreReduce {
  target: Size;
  /**
   * true: let libjpeg decode at 1/2, 1/4 or 1/8 scale (sharp picks the scale from the target) before
   * libvips' cubic reduce. false: decode at full size, then libvips' cubic reduce only.
   */
  shrinkOnLoad: boolean;
}

/**
 * Decodes to 8-bit RGB at full size, or pre-reduced by libvips when `reduce` is given; the caller picks
 * reductions that keep within its error budget and only for plain 8-bit images without alpha (reduce.ts).
 */
export async function decodeRgb8(
  bytes: Uint8Array,
  p: Probe,
  limits: ImageLimits,
  reduce?: PreReduce,
): Promise<Rgb8> {
  try {
    const img = sharp(bytes, loadOptions(limits));
    if (reduce) return await rgb(preReduced(img, p, reduce));
    if (p.space === "cmyk") {
      const { data, info } = await img
        .pipelineColourspace("cmyk")
        .toColourspace("cmyk")
        .raw()
        .toBuffer({ resolveWithObject: true });
      return { data: cmykToRgb(data, info.channels), width: info.width, height: info.height };
    }
    if (isGrey16WithoutAlpha(p)) {
      const { data, info } = await img
        .toColourspace("grey16")
        .raw({ depth: "ushort" })
        .toBuffer({ resolveWithObject: true });
      return { data: clipGrey16(data, info.channels), width: info.width, height: info.height };
    }
    const gif = p.format === "gif" ? gifFirstFrame(bytes) : null;
    if (gif && (p.hasAlpha || !coversCanvas(gif, p.stored))) {
      const { data, info } = await img.toColourspace("srgb").raw().toBuffer({ resolveWithObject: true });
      return {
        data: pilFirstFrame(data, info.channels, info.width, gif),
        width: info.width,
        height: info.height,
      };
    }
    const decoded = await rgb(img);
    const avif = p.format === "avif" ? avifColour(bytes) : null;
    if (avif) decoded.data = bilinearChroma(decoded.data, decoded.width, decoded.height, avif);
    return decoded;
  } catch (err) {
    throw err instanceof DecodeError ? err : decodeFailure(err);
  }
}

function preReduced(img: Sharp, p: Probe, reduce: PreReduce): Sharp {
  // An extract before the resize is how sharp is told not to shrink on load (it disables pre-shrink);
  // with autoOrient its coordinates are the oriented image's.
  const src = reduce.shrinkOnLoad
    ? img
    : img.extract({ left: 0, top: 0, ...orientedSize(p.stored, p.orientation) });
  return src.resize(reduce.target.width, reduce.target.height, {
    fit: "fill",
    kernel: "cubic",
    fastShrinkOnLoad: true,
  });
}

/** Alpha dropped (after any resize, so only ever on unresized images: see reduce.ts), grey expanded. */
async function rgb(img: Sharp): Promise<Rgb8> {
  const { data, info } = await img
    .removeAlpha()
    .toColourspace("srgb")
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`expected 3 channels, decoder produced ${info.channels}`);
  return {
    data: new Uint8Array(data.buffer, data.byteOffset, data.length),
    width: info.width,
    height: info.height,
  };
}

function coversCanvas(frame: GifFirstFrame, canvas: Size): boolean {
  return (
    frame.left <= 0 &&
    frame.top <= 0 &&
    frame.left + frame.width >= canvas.width &&
    frame.top + frame.height >= canvas.height
  );
}

/** PIL's `cmyk2rgb`: channel = (255 - K) - C * (255 - K) / 255, with PIL's rounded division by 255. */
export function cmykToRgb(cmyk: Uint8Array, channels: number): Uint8Array {
  const n = cmyk.length / channels;
  const out = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    const nk = 255 - (cmyk[i * channels + 3] as number);
    for (let c = 0; c < 3; c++) {
      const t = (cmyk[i * channels + c] as number) * nk + 128;
      const v = nk - (((t >> 8) + t) >> 8);
      out[i * 3 + c] = Math.max(v, 0);
    }
  }
  return out;
}

/** PIL's `I;16` to RGB: values above 255 saturate (so most 16-bit greys come out white, like the reference). */
export function clipGrey16(raw: Uint8Array, channels: number): Uint8Array {
  // Uint16Array views need 2-byte alignment; sharp's buffers normally have it, but don't rely on it.
  const aligned = raw.byteOffset % 2 === 0 ? raw : raw.slice();
  const words = new Uint16Array(aligned.buffer, aligned.byteOffset, aligned.length / 2);
  const n = words.length / channels;
  const out = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    const v = words[i * channels] as number;
    const c = Math.min(v, 255);
    out[i * 3] = c;
    out[i * 3 + 1] = c;
    out[i * 3 + 2] = c;
  }
  return out;
}
