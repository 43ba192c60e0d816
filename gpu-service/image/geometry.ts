/**
 * Where the reference puts every pixel: resized size and crop offsets, computed exactly as
 * torchvision does on a PIL image (openai/CLIP's `Resize(n, BICUBIC)` then `CenterCrop(n)`).
 */
import type { PreprocessConfig } from "./config.ts";

/** Python's `round()`: halves go to the even neighbour (`round(0.5) == 0`, `round(1.5) == 2`). */
export function pyRound(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff < 0.5) return floor;
  if (diff > 0.5) return floor + 1;
  return floor % 2 === 0 ? floor : floor + 1;
}

export interface Size {
  width: number;
  height: number;
}

/**
 * The size the whole image is resized to before cropping.
 *
 * @example resizedSize({ width: 2000, height: 150 }, cfg) // { width: 2986, height: 224 } for shortest_edge 224
 */
export function resizedSize(source: Size, config: PreprocessConfig): Size {
  const rule = config.resize;
  if (rule === null) return source;
  if (rule.kind === "exact") return { width: rule.width, height: rule.height };
  const { width: w, height: h } = source;
  const short = Math.min(w, h);
  const long = Math.max(w, h);
  // Python's int(size * long / short): a float64 division, then truncation.
  const newLong = Math.trunc((rule.size * long) / short);
  return w <= h ? { width: rule.size, height: newLong } : { width: newLong, height: rule.size };
}

/** Left/top of the crop window inside the resized image; negative when torchvision would pad. */
export interface CropWindow {
  left: number;
  top: number;
  width: number;
  height: number;
}

function cropOffset(size: number, crop: number): number {
  // torchvision pads (with zeros) to the crop size first when the image is smaller; the padding puts
  // floor((crop - size) / 2) before the image, and the crop of the padded image then starts at 0.
  if (crop > size) return -Math.floor((crop - size) / 2);
  return pyRound((size - crop) / 2);
}

/**
 * The window of the resized image that becomes the model input.
 *
 * @example cropWindow({ width: 373, height: 224 }, cfg) // { left: 74, top: 0, ... }: (373-224)/2 = 74.5 rounds to 74
 */
export function cropWindow(resized: Size, config: PreprocessConfig): CropWindow {
  const crop = config.crop;
  if (crop === null) return { left: 0, top: 0, width: resized.width, height: resized.height };
  return {
    left: cropOffset(resized.width, crop.width),
    top: cropOffset(resized.height, crop.height),
    width: crop.width,
    height: crop.height,
  };
}

/** EXIF orientations 5–8 transpose the stored image. */
export function orientedSize(stored: Size, orientation: number): Size {
  return orientation >= 5 && orientation <= 8 ? { width: stored.height, height: stored.width } : stored;
}
