/**
 * One training image of the tiny CLIP: a shapes-world render at training sizes, then the GPU tier's own
 * preprocessing up to the pixels (gpu-service/image: bicubic resize of the short side and centre crop, Pillow's
 * arithmetic — the one implementation of CLIP's resize-and-crop in the repository), then the 4×4 average pool the
 * tiny CLIP applies first. The model so learns from exactly the pixels it is served.
 *
 * Stored after the pool (56×56 uint8): pooling commutes with CLIP's per-channel normalisation, so train.py only
 * normalises these bytes, and the exported graph takes the served [3, 224, 224] tensor and pools it itself.
 */
import {
  type PreprocessConfig,
  preprocessImageRgb,
  readPreprocessConfig,
} from "../../../gpu-service/image/index.ts";
import { type Caption, type PairSet, renderSample, type Scene } from "../../../shapes-world/index.ts";

export const POOL = 4;
export const POOLED = 56;
const CROP = POOLED * POOL;

/** Short side of training renders: from the crop size up, so the resize shrinks a little or not at all. */
export const TRAINING_SHORT_SIDE = [224, 400] as const;

/**
 * The model folder's `preprocessor_config.json` (CLIP's: shortest edge 224 bicubic, centre crop 224, CLIP mean and
 * std). The dataset is preprocessed with it and train.py writes it into the exported folder (from meta.json), so
 * the data and the served model cannot disagree.
 */
export const TINY_CLIP_PREPROCESSOR = {
  crop_size: 224,
  do_center_crop: true,
  do_convert_rgb: true,
  do_normalize: true,
  do_rescale: true,
  do_resize: true,
  feature_extractor_type: "CLIPFeatureExtractor",
  image_mean: [0.48145466, 0.4578275, 0.40821073],
  image_processor_type: "CLIPImageProcessor",
  image_std: [0.26862954, 0.26130258, 0.27577711],
  processor_class: "CLIPProcessor",
  resample: 3,
  rescale_factor: 1 / 255,
  size: { shortest_edge: 224 },
};

/** Reads a preprocessor config for training: the pool needs a CROP×CROP input. */
export function trainingPreprocessConfig(json: unknown = TINY_CLIP_PREPROCESSOR): PreprocessConfig {
  const config = readPreprocessConfig(json);
  if (config.outputWidth !== CROP || config.outputHeight !== CROP) {
    throw new RangeError(
      `the tiny CLIP pools ${CROP}×${CROP} input, the config gives ${config.outputWidth}×${config.outputHeight}`,
    );
  }
  return config;
}

/**
 * The pooled training pixels (POOLED×POOLED×3, HWC uint8) of one encoded image, written into `out`.
 *
 * @example const pooled = await trainingPixels(jpegBytes, trainingPreprocessConfig()); // 56·56·3 bytes
 */
export async function trainingPixels(
  bytes: Uint8Array,
  config: PreprocessConfig,
  out: Uint8Array = new Uint8Array(POOLED * POOLED * 3),
): Promise<Uint8Array> {
  // The serving defaults (limits and paths) on purpose: what the GPU tier would do with this image.
  const r = await preprocessImageRgb(bytes, config);
  // Renders are ours: one the pipeline refuses is a bug in the renderer, never data to skip.
  if (!r.ok) throw new Error(`the serving pipeline refused a training render: ${r.code}: ${r.message}`);
  return averagePool4(r.rgb, out);
}

/**
 * Renders sample `index` of `seed` as training does and writes its pooled pixels into `out`.
 *
 * @example const { scene, caption } = await renderTrainingSample(11, 0, "seen", config, pixels.subarray(0, 9408));
 */
export async function renderTrainingSample(
  seed: number,
  index: number,
  pairs: PairSet,
  config: PreprocessConfig,
  out: Uint8Array,
): Promise<{ scene: Scene; caption: Caption }> {
  const { scene, caption, bytes } = await renderSample(seed, index, {
    pairs,
    shortSide: TRAINING_SHORT_SIDE,
  });
  await trainingPixels(bytes, config, out);
  return { scene, caption };
}

/** 4×4 average pool of a CROP×CROP HWC RGB image into POOLED×POOLED, rounded to uint8. */
export function averagePool4(
  pixels: Uint8Array,
  out: Uint8Array = new Uint8Array(POOLED * POOLED * 3),
): Uint8Array {
  if (pixels.length !== CROP * CROP * 3)
    throw new RangeError(`expected ${CROP * CROP * 3} bytes, got ${pixels.length}`);
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
