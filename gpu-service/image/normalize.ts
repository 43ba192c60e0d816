/**
 * 8-bit RGB (interleaved, HWC) to the model's float32 CHW input: `(v * rescale - mean[c]) / std[c]`, the
 * arithmetic of torchvision's ToTensor + Normalize. Pure: writes into a caller-provided slot so a batch
 * tensor [B, 3, H, W] is filled in place.
 */
import type { PreprocessConfig } from "./config.ts";

/** 3 × 256 float32 values: the normalised value of every byte for each channel. */
export function normalizeTable(config: PreprocessConfig): Float32Array {
  const table = new Float32Array(3 * 256);
  for (let c = 0; c < 3; c++) {
    const mean = config.normalize ? (config.normalize.mean[c] as number) : 0;
    const std = config.normalize ? (config.normalize.std[c] as number) : 1;
    for (let v = 0; v < 256; v++) {
      // Float32 steps as torch takes them: v/255 rounded to float32, then (x - mean) / std in float32.
      const x = Math.fround(v * config.rescaleFactor);
      table[c * 256 + v] = Math.fround(Math.fround(x - Math.fround(mean)) / Math.fround(std));
    }
  }
  return table;
}

/**
 * Writes `rgb` (width × height × 3 bytes) as CHW float32 into `out` starting at element `offset`.
 *
 * @example writeChw(rgb, 224, 224, table, batch, i * 3 * 224 * 224) // fills image i of a batch
 */
export function writeChw(
  rgb: Uint8Array,
  width: number,
  height: number,
  table: Float32Array,
  out: Float32Array,
  offset: number,
): void {
  const plane = width * height;
  if (rgb.length !== plane * 3) throw new RangeError(`expected ${plane * 3} bytes, got ${rgb.length}`);
  if (offset < 0 || offset + 3 * plane > out.length) {
    throw new RangeError(`slot [${offset}, ${offset + 3 * plane}) is outside a tensor of ${out.length}`);
  }
  const r = offset;
  const g = offset + plane;
  const b = offset + 2 * plane;
  for (let i = 0, p = 0; i < plane; i++, p += 3) {
    out[r + i] = table[rgb[p] as number] as number;
    out[g + i] = table[256 + (rgb[p + 1] as number)] as number;
    out[b + i] = table[512 + (rgb[p + 2] as number)] as number;
  }
}

/** The inverse, for looking at a tensor: CHW float32 back to 8-bit RGB (rounded, clamped). */
export function chwToRgb(
  chw: Float32Array,
  width: number,
  height: number,
  config: PreprocessConfig,
  offset = 0,
): Uint8Array {
  const plane = width * height;
  const rgb = new Uint8Array(plane * 3);
  for (let c = 0; c < 3; c++) {
    const mean = config.normalize ? (config.normalize.mean[c] as number) : 0;
    const std = config.normalize ? (config.normalize.std[c] as number) : 1;
    for (let i = 0; i < plane; i++) {
      const v = ((chw[offset + c * plane + i] as number) * std + mean) / config.rescaleFactor;
      rgb[i * 3 + c] = Math.min(255, Math.max(0, Math.round(v)));
    }
  }
  return rgb;
}
