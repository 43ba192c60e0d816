/**
 * CLIP's image preprocessing up to the crop (resize shortest side to 224 bicubic, centre crop 224), then the
 * 4×4 average pool the tiny CLIP applies first. Training data is stored after the pool (56×56, uint8): pooling
 * commutes with CLIP's per-channel normalisation, so the exported model can prepend the pool and take 224×224.
 */
import sharp from "sharp";

export const CROP = 224;
export const POOLED = 56;

export type ResizeKernel = "cubic" | "lanczos3" | "mitchell";

/** Resized and centre-cropped RGB, HWC uint8, CROP×CROP. Crop offsets as openai/CLIP: round((size − 224) / 2). */
export async function clipCrop(bytes: Uint8Array, kernel: ResizeKernel = "cubic"): Promise<Buffer> {
  const image = sharp(bytes).rotate();
  const meta = await image.metadata();
  const w0 = meta.autoOrient?.width ?? meta.width ?? CROP;
  const h0 = meta.autoOrient?.height ?? meta.height ?? CROP;
  // Multiply before dividing, as the reference's int(224 * long / short), so square images stay exactly 224.
  const width = w0 <= h0 ? CROP : Math.trunc((CROP * w0) / h0);
  const height = h0 <= w0 ? CROP : Math.trunc((CROP * h0) / w0);
  return image
    .resize(width, height, { kernel, fit: "fill" })
    .extract({
      left: Math.round((width - CROP) / 2),
      top: Math.round((height - CROP) / 2),
      width: CROP,
      height: CROP,
    })
    .removeAlpha()
    .toColourspace("srgb")
    .raw()
    .toBuffer();
}

/** 4×4 average pool of a CROP×CROP HWC RGB image into POOLED×POOLED, rounded to uint8. */
export function averagePool4(
  pixels: Uint8Array,
  out: Uint8Array = new Uint8Array(POOLED * POOLED * 3),
): Uint8Array {
  for (let y = 0; y < POOLED; y++) {
    for (let x = 0; x < POOLED; x++) {
      for (let c = 0; c < 3; c++) {
        let sum = 0;
        for (let dy = 0; dy < 4; dy++) {
          const row = ((y * 4 + dy) * CROP + x * 4) * 3 + c;
          sum +=
            (pixels[row] as number) +
            (pixels[row + 3] as number) +
            (pixels[row + 6] as number) +
            (pixels[row + 9] as number);
        }
        out[(y * POOLED + x) * 3 + c] = (sum + 8) >> 4;
      }
    }
  }
  return out;
}
