/**
 * Per-image outcomes at the boundary: errors are values from a closed set, never exceptions, so one bad
 * image in a batch fails alone.
 */

export type ImageErrorCode =
  /** Corrupt, truncated, empty, or not an image we recognise. */
  | "invalid_image"
  /** Recognised, but not a format we decode (SVG, PDF, HEIC, BMP, HTML, ...). */
  | "unsupported_format"
  /** Over the byte limit, or the header declares more pixels than the pixel limit. */
  | "image_too_large";

export const IMAGE_ERROR_CODES: readonly ImageErrorCode[] = [
  "invalid_image",
  "unsupported_format",
  "image_too_large",
];

export interface ImageLimits {
  /** Largest accepted encoded size, in bytes. */
  maxBytes: number;
  /** Largest accepted width × height (after EXIF orientation; first frame/page), checked from the header. */
  maxPixels: number;
}

export const DEFAULT_IMAGE_LIMITS: Readonly<ImageLimits> = Object.freeze({
  maxBytes: 10 * 1024 * 1024,
  maxPixels: 50_000_000,
});

export interface ImageError {
  ok: false;
  code: ImageErrorCode;
  message: string;
}

export function imageError(code: ImageErrorCode, message: string): ImageError {
  return { ok: false, code, message };
}
