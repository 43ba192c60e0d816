/**
 * Renders shapes-world samples to encoded images with sharp: SVG → raster, then sensor-like noise, blur and
 * JPEG artefacts.
 */
import sharp from "sharp";
import { type Caption, captionFor } from "./captions.ts";
import type { Colour, Shape } from "./palette.ts";
import { createRng, mixSeed, sampleRng } from "./prng.ts";
import { type Scene, type SceneOptions, sampleScene } from "./scene.ts";
import { sceneToSvg } from "./svg.ts";

export type ShapeSample = {
  bytes: Uint8Array;
  mime: "image/jpeg" | "image/png";
  colour: Colour;
  shape: Shape;
  count: number;
  caption: string;
  width: number;
  height: number;
};

export type RenderOptions = SceneOptions;

/** Scene and caption for (seed, index), without drawing anything: cheap, for corpora and planning. */
export function describeSample(
  seed: number,
  index: number,
  options: RenderOptions = {},
): { scene: Scene; caption: Caption } {
  const rng = sampleRng(seed, index);
  const scene = sampleScene(rng, options);
  return { scene, caption: captionFor(scene, rng) };
}

/** Adds Gaussian-ish noise in place; its own stream so the scene's choices don't depend on image size. */
function addNoise(pixels: Buffer, sigma: number, seed: number): void {
  let s = seed >>> 0 || 1;
  // A clamped view: assignment saturates at 0 and 255 and rounds, which is what pixel noise needs.
  const out = new Uint8ClampedArray(pixels.buffer, pixels.byteOffset, pixels.length);
  for (let i = 0; i < out.length; i++) {
    // xorshift32 twice, summed: cheap triangular noise with the right spread.
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    const a = (s >>> 0) / 4294967296;
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    const b = (s >>> 0) / 4294967296;
    out[i] = (out[i] as number) + (a + b - 1) * sigma * 2.45;
  }
}

/** Rasterises a scene and encodes it as the scene asks (JPEG at its quality, or PNG). */
export async function renderScene(scene: Scene, noiseSeed: number): Promise<Uint8Array> {
  const svg = Buffer.from(sceneToSvg(scene));
  let image = sharp(svg, { limitInputPixels: false }).removeAlpha();
  if (scene.noiseSigma > 0) {
    const { data, info } = await image.raw().toBuffer({ resolveWithObject: true });
    addNoise(data, scene.noiseSigma, noiseSeed);
    image = sharp(data, {
      raw: { width: info.width, height: info.height, channels: 3 },
      limitInputPixels: false,
    });
  }
  if (scene.blurSigma >= 0.3) image = image.blur(scene.blurSigma);
  const encoded =
    scene.format === "jpeg"
      ? await image
          .jpeg({ quality: scene.jpegQuality, chromaSubsampling: scene.jpegQuality > 85 ? "4:4:4" : "4:2:0" })
          .toBuffer()
      : await image.png({ compressionLevel: 1 }).toBuffer();
  return new Uint8Array(encoded.buffer, encoded.byteOffset, encoded.byteLength);
}

/**
 * One sample with everything known about it: its scene (every label), its caption (with the claims it makes) and
 * its encoded image. What training needs; `renderShapeSample` is the same sample in the form requests need.
 *
 * @example const { scene, caption, bytes } = await renderSample(11, 0, { pairs: "seen", shortSide: [224, 400] });
 */
export async function renderSample(
  seed: number,
  index: number,
  options: RenderOptions = {},
): Promise<{ scene: Scene; caption: Caption; bytes: Uint8Array }> {
  const { scene, caption } = describeSample(seed, index, options);
  return { scene, caption, bytes: await renderScene(scene, mixSeed(seed ^ 0x5bd1e995, index)) };
}

/**
 * One sample of the shapes world, fully determined by (seed, index, options).
 *
 * @example
 *   const sample = await renderShapeSample(7, 0, { pairs: "all", megapixels: 12, format: "jpeg" });
 *   // sample.caption === "a photo of two red circles." (for example), sample.bytes is the JPEG
 */
export async function renderShapeSample(
  seed: number,
  index: number,
  options: RenderOptions = {},
): Promise<ShapeSample> {
  const { scene, caption, bytes } = await renderSample(seed, index, options);
  return {
    bytes,
    mime: scene.format === "jpeg" ? "image/jpeg" : "image/png",
    colour: scene.colour,
    shape: scene.shape,
    count: scene.count,
    caption: caption.text,
    width: scene.width,
    height: scene.height,
  };
}

/** Extra captions for the same scene (training pairs each image with several phrasings). */
export function moreCaptions(seed: number, index: number, scene: Scene, how: number): Caption[] {
  const rng = createRng(mixSeed(seed ^ 0x27d4eb2f, index));
  return Array.from({ length: how }, () => captionFor(scene, rng));
}
