/**
 * The shapes world: synthetic photos of 1–3 objects of one colour and shape, with captions.
 * Four colour–shape pairs (HELD_OUT_PAIRS) are never rendered unless asked for, to test zero-shot recognition.
 */
export {
  type BankCaption,
  type Caption,
  captionBank,
  captionCorpus,
  captionFor,
  PROMPT_TEMPLATES,
  zeroShotPrompt,
} from "./captions.ts";
export {
  ALL_PAIRS,
  BACKGROUND_NAMES,
  COLOURS,
  type Colour,
  HELD_OUT_PAIRS,
  isHeldOut,
  type Pair,
  SEEN_PAIRS,
  SHAPES,
  type Shape,
} from "./palette.ts";
export { createRng, mixSeed, sampleRng } from "./prng.ts";
export {
  describeSample,
  moreCaptions,
  type RenderOptions,
  renderSample,
  renderScene,
  renderShapeSample,
  type ShapeSample,
} from "./render.ts";
export { type PairSet, type Scene, type SceneOptions, sampleScene } from "./scene.ts";
export { sceneToSvg } from "./svg.ts";
