/**
 * CLIP preprocessing for tests and benchmarks: encoded image → normalised float32 CHW [3,224,224], through the same
 * resize and centre crop the training data used (sharp, bicubic).
 */
import { clipCrop } from "../../tools/tiny-clip/dataset/preprocess.ts";

const MEAN = [0.48145466, 0.4578275, 0.40821073];
const STD = [0.26862954, 0.26130258, 0.27577711];
const SIDE = 224;

/** Writes one image's normalised pixels into `out` at image slot `slot` (for batching). */
export async function clipPixels(
  bytes: Uint8Array,
  out = new Float32Array(3 * SIDE * SIDE),
  slot = 0,
): Promise<Float32Array> {
  const hwc = await clipCrop(bytes, "cubic");
  const plane = SIDE * SIDE;
  const base = slot * 3 * plane;
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) {
      out[base + c * plane + p] =
        ((hwc[p * 3 + c] as number) / 255 - (MEAN[c] as number)) / (STD[c] as number);
    }
  }
  return out;
}
