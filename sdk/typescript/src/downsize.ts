// Downsizing before upload. The model sees a centre crop at its input size (224 px for the embedded model and
// CLIP ViT-B/32); a phone photo's 12 megapixels are bytes on a mobile link that change nothing it sees. The short
// side is kept at twice the input size (GET /v1/models' `recommended_upload.min_short_side`), so the server's own
// bicubic resize still has two source pixels per output pixel to average; `npm run bench:upload` measures the cosine
// this keeps against the original upload and the bytes it saves.

/** The embedded model's (and CLIP ViT-B/32's) recommended short side: 224 × 2. */
export const DEFAULT_MIN_SHORT_SIDE = 448;

/**
 * The size to downsize a `width` × `height` image to: its short side at `minShortSide`, aspect kept, never enlarged.
 * Shared by `downsizeImage` and the bench that measures it.
 *
 * @example targetSize(4032, 3024, 448) // { width: 598, height: 448 }
 */
export function targetSize(
  width: number,
  height: number,
  minShortSide: number,
): { width: number; height: number } {
  const short = Math.min(width, height);
  if (short <= minShortSide) return { width, height };
  const scale = minShortSide / short;
  // The short side exactly at the target; the long one rounded up so it never falls below the aspect.
  return width <= height
    ? { width: minShortSide, height: Math.ceil(height * scale) }
    : { width: Math.ceil(width * scale), height: minShortSide };
}

export interface DownsizeOptions {
  /** From GET /v1/models' recommended_upload.min_short_side; 448 by default. */
  minShortSide?: number;
  /** JPEG quality, 0–1. Default 0.9. */
  quality?: number;
}

// The few browser APIs used, typed here so the SDK needs no DOM typings of its callers and fails clearly without them.
interface Bitmap {
  width: number;
  height: number;
  close(): void;
}
interface Canvas2D {
  getContext(
    kind: "2d",
  ): { drawImage(image: Bitmap, x: number, y: number, w: number, h: number): void } | null;
  convertToBlob?(options: { type: string; quality: number }): Promise<Blob>;
  toBlob?(callback: (blob: Blob | null) => void, type: string, quality: number): void;
  width: number;
  height: number;
}
interface BrowserGlobals {
  createImageBitmap?: (image: Blob, options?: { imageOrientation?: "from-image" }) => Promise<Bitmap>;
  OffscreenCanvas?: new (width: number, height: number) => Canvas2D;
  document?: { createElement(tag: "canvas"): Canvas2D };
}

/**
 * Downsizes a photo in the browser (or a Worker with OffscreenCanvas) to JPEG at the recommended size; returns the
 * Blob unchanged when it is already no larger. EXIF orientation is applied by createImageBitmap. React Native has no
 * createImageBitmap or canvas: there use expo-image-manipulator (or similar) with `targetSize` for the dimensions.
 *
 * @example
 * const upload = await downsizeImage(input.files[0]);
 * await clip.classify({ image: upload, labels: ["cat", "dog"] });
 */
export async function downsizeImage(image: Blob, options: DownsizeOptions = {}): Promise<Blob> {
  const g = globalThis as BrowserGlobals;
  if (!g.createImageBitmap) {
    throw new TypeError(
      "downsizeImage needs createImageBitmap (browsers, Workers); in React Native use targetSize",
    );
  }
  const bitmap = await g.createImageBitmap(image, { imageOrientation: "from-image" });
  try {
    const size = targetSize(bitmap.width, bitmap.height, options.minShortSide ?? DEFAULT_MIN_SHORT_SIDE);
    if (size.width === bitmap.width && size.height === bitmap.height) return image;
    const canvas = g.OffscreenCanvas
      ? new g.OffscreenCanvas(size.width, size.height)
      : Object.assign(g.document?.createElement("canvas") ?? fail(), size);
    const context = canvas.getContext("2d") ?? fail();
    context.drawImage(bitmap, 0, 0, size.width, size.height);
    return await encodeJpeg(canvas, options.quality ?? 0.9);
  } finally {
    bitmap.close();
  }
}

function encodeJpeg(canvas: Canvas2D, quality: number): Promise<Blob> {
  if (canvas.convertToBlob) return canvas.convertToBlob({ type: "image/jpeg", quality });
  return new Promise((resolve, reject) =>
    canvas.toBlob?.(
      (blob) => (blob ? resolve(blob) : reject(new Error("JPEG encoding failed"))),
      "image/jpeg",
      quality,
    ),
  );
}

function fail(): never {
  throw new TypeError("downsizeImage needs a 2D canvas (OffscreenCanvas or document)");
}
