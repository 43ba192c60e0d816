import {
  type Box,
  OCCLUDER,
  OCCLUSION_WINDOW,
  type OcclusionCell,
  type OcclusionGeometry,
} from "../../src/protocol/explain.ts";
import type { PreparedImage } from "../embedders/image-embedder.ts";
import type { PreprocessInfo } from "../image/pipeline.ts";

/**
 * The region of the original (EXIF-oriented) image that becomes the model's input, from the pipeline's own
 * arithmetic: the whole image is resized to `info.resized` (one scale per axis), then the window `info.crop` of it is
 * kept. A resized pixel edge at `u` is the source edge `u × width / resized.width`, so the window maps back exactly.
 *
 * @example cropInOriginal(info) // 640×480 → resized 298×224, window left 37 → { x: 79.46, y: 0, width: 481.07, height: 480 }
 */
export function cropInOriginal(info: Pick<PreprocessInfo, "width" | "height" | "resized" | "crop">): Box {
  const sx = info.width / info.resized.width;
  const sy = info.height / info.resized.height;
  return {
    x: info.crop.left * sx,
    y: info.crop.top * sy,
    width: info.crop.width * sx,
    height: info.crop.height * sy,
  };
}

/** The geometry an occlusion answer reports for a `grid × grid` explanation of the preprocessed image. */
export function occlusionGeometry(info: PreprocessInfo, grid: number): OcclusionGeometry {
  return {
    image: { width: info.width, height: info.height },
    input: { width: info.crop.width, height: info.crop.height },
    crop: cropInOriginal(info),
    grid: { rows: grid, cols: grid },
    occluder: OCCLUDER,
    window: OCCLUSION_WINDOW,
  };
}

/**
 * The unoccluded input, or a copy with one cell's window hidden (`cell.hidden`: the cell and half a cell around it,
 * see OCCLUSION_WINDOW), written straight into the batch tensor when the batcher
 * prepares it: the g² variants never exist as separate tensors, so a 14×14 explanation holds one image, not 197.
 *
 * The occluder is zero in the model's normalised input space, i.e. the normalisation mean colour: the mean is what
 * the training data averages to, so a zero patch is the one input that carries no signal the model learnt to read
 * (no colour, no edge inside it, no texture), it needs no parameter to tune, and it is the same for every image.
 * A black or grey patch would itself be a colour CLIP sees; a blur would leak the cell's colour, which is exactly what
 * colour labels depend on.
 *
 * @example embedder.embedPrepared(occludedInput(pixels, cells[3], 224)) // the image with cell 3 hidden
 */
export function occludedInput(
  base: Float32Array,
  cell: OcclusionCell | undefined,
  width: number,
): PreparedImage {
  return {
    write(out, offset) {
      out.set(base, offset);
      if (!cell) return;
      const plane = base.length / 3;
      const { left, top, right, bottom } = cell.hidden;
      for (let channel = 0; channel < 3; channel++) {
        for (let y = top; y < bottom; y++) {
          const start = offset + channel * plane + y * width;
          out.fill(0, start + left, start + right);
        }
      }
    },
  };
}
