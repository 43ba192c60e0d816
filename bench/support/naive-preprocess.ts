import sharp from "sharp";
import type { PreprocessConfig } from "../../gpu-service/image/config.ts";
import { normalizeTable, writeChw } from "../../gpu-service/image/normalize.ts";

/**
 * What one writes first with sharp: torchvision's resize size, sharp's cubic resize (shrink-on-load on,
 * alpha premultiplied), a centre crop rounded with Math.round. It reproduces the MAEs quoted in the issue
 * (0.69 noise.png, 0.13 banner.jpg, 0.04 alpha.png and large-photo.jpg).
 */
export function naivePreprocessor(config: PreprocessConfig): (bytes: Uint8Array) => Promise<Float32Array> {
  const table = normalizeTable(config);
  return async function naive(bytes: Uint8Array): Promise<Float32Array> {
    const meta = await sharp(bytes).metadata();
    const { width: w, height: h } = meta.autoOrient;
    const long = Math.trunc((224 * Math.max(w, h)) / Math.min(w, h));
    const rw = w <= h ? 224 : long;
    const rh = w <= h ? long : 224;
    const rgb = await sharp(bytes, { autoOrient: true })
      .resize(rw, rh, { fit: "fill", kernel: "cubic" })
      .extract({ left: Math.round((rw - 224) / 2), top: Math.round((rh - 224) / 2), width: 224, height: 224 })
      .removeAlpha()
      .toColourspace("srgb")
      .raw()
      .toBuffer();
    const out = new Float32Array(3 * 224 * 224);
    writeChw(new Uint8Array(rgb.buffer, rgb.byteOffset, rgb.length), 224, 224, table, out, 0);
    return out;
  };
}
