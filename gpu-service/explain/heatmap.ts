import sharp from "sharp";
import { MAX_HEATMAP_SIDE } from "../../src/protocol/explain.ts";
import type { ImageLimits } from "../image/errors.ts";
import type { PreprocessInfo } from "../image/pipeline.ts";
import { cropInOriginal } from "./occlusion.ts";

/** Whole pixels of the original image inside the model's crop (clamped to the image, for padded crops). */
export interface PixelRegion {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** The crop rounded to whole pixels, and the heatmap's size: the region scaled down to ≤ MAX_HEATMAP_SIDE. */
export function heatmapLayout(info: Pick<PreprocessInfo, "width" | "height" | "resized" | "crop">): {
  region: PixelRegion;
  width: number;
  height: number;
} {
  const crop = cropInOriginal(info);
  const left = Math.min(info.width - 1, Math.max(0, Math.round(crop.x)));
  const top = Math.min(info.height - 1, Math.max(0, Math.round(crop.y)));
  const right = Math.max(left + 1, Math.min(info.width, Math.round(crop.x + crop.width)));
  const bottom = Math.max(top + 1, Math.min(info.height, Math.round(crop.y + crop.height)));
  const region = { left, top, width: right - left, height: bottom - top };
  const scale = Math.min(1, MAX_HEATMAP_SIDE / Math.max(region.width, region.height));
  return {
    region,
    width: Math.max(1, Math.round(region.width * scale)),
    height: Math.max(1, Math.round(region.height * scale)),
  };
}

/**
 * The overlay as RGBA: scores interpolated bilinearly between cell centres (a smooth map: the scores are samples of
 * how much each region matters, not hard-edged facts), coloured from red (low) to yellow (high), with opacity
 * 0.5 × score, so regions that do not matter show the photo untouched and the most important ones are half covered.
 *
 * @example overlayRgba([[0, 1], [1, 0]], 64, 64) // 64×64×4 bytes, yellow towards the top-right and bottom-left
 */
export function overlayRgba(
  scores: readonly (readonly number[])[],
  width: number,
  height: number,
): Uint8Array {
  const rows = scores.length;
  const cols = scores[0]?.length ?? 0;
  const at = (r: number, c: number) => scores[r]?.[c] ?? 0;
  const out = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    const fy = Math.min(rows - 1, Math.max(0, ((y + 0.5) / height) * rows - 0.5));
    const r0 = Math.floor(fy);
    const r1 = Math.min(rows - 1, r0 + 1);
    const ty = fy - r0;
    for (let x = 0; x < width; x++) {
      const fx = Math.min(cols - 1, Math.max(0, ((x + 0.5) / width) * cols - 0.5));
      const c0 = Math.floor(fx);
      const c1 = Math.min(cols - 1, c0 + 1);
      const tx = fx - c0;
      const top = at(r0, c0) * (1 - tx) + at(r0, c1) * tx;
      const bottom = at(r1, c0) * (1 - tx) + at(r1, c1) * tx;
      const s = Math.min(1, Math.max(0, top * (1 - ty) + bottom * ty));
      const p = (y * width + x) * 4;
      out[p] = 255;
      out[p + 1] = Math.round(255 * s);
      out[p + 2] = 0;
      out[p + 3] = Math.round(255 * 0.5 * s);
    }
  }
  return out;
}

/**
 * The model's crop of the EXIF-oriented image, at most MAX_HEATMAP_SIDE px on its long side, with the scores drawn
 * over it, as PNG. `info` is the pipeline's for these bytes (so the region is exactly the one the model saw); the
 * caller has checked the bytes decode.
 *
 * @example const png = await renderHeatmap(bytes, prepared.info, scores, config.image)
 */
export async function renderHeatmap(
  bytes: Uint8Array,
  info: PreprocessInfo,
  scores: readonly (readonly number[])[],
  limits: ImageLimits,
): Promise<Uint8Array<ArrayBuffer>> {
  const { region, width, height } = heatmapLayout(info);
  // Oriented first, as raw pixels, so the crop is cut in the coordinates the geometry speaks (after EXIF orientation).
  const oriented = await sharp(bytes, {
    autoOrient: true,
    pages: 1,
    page: 0,
    limitInputPixels: Math.max(1, Math.floor(limits.maxPixels)),
  })
    .toColourspace("srgb")
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  const png = await sharp(oriented.data, {
    raw: { width: oriented.info.width, height: oriented.info.height, channels: oriented.info.channels },
  })
    .extract(region)
    .resize(width, height, { fit: "fill", kernel: "lanczos3" })
    .composite([
      { input: Buffer.from(overlayRgba(scores, width, height).buffer), raw: { width, height, channels: 4 } },
    ])
    .png()
    .toBuffer();
  return new Uint8Array(png);
}
