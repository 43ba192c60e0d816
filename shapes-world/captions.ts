/**
 * Captions for shapes-world samples, in many phrasings, and the canonical caption bank used for retrieval.
 *
 * Each caption also reports what it claims (count, background) so training can tell which captions in a
 * batch are true of which images: "red circles" is true of two red circles and of three.
 */
import { COLOURS, type Colour, SHAPES, type Shape } from "./palette.ts";
import type { Rng } from "./prng.ts";
import type { Scene } from "./scene.ts";

export type Caption = {
  text: string;
  /** 0: plural without a number; 1–3: exactly that many. */
  countClaim: number;
  /** Background name the caption mentions, or null. */
  backgroundClaim: string | null;
};

const NUMBER_WORDS = ["zero", "one", "two", "three"];
const PLURALS: Record<Shape, string> = {
  circle: "circles",
  square: "squares",
  triangle: "triangles",
  star: "stars",
};

const article = (word: string) => (/^[aeiou]/.test(word) ? "an" : "a");

/** CLIP-style prompt templates; "{}" is a singular "colour shape" label, used literally with "a" as CLIP does. */
export const PROMPT_TEMPLATES = [
  "a photo of a {}.",
  "a photo of the {}.",
  "a bad photo of the {}.",
  "a bad photo of a {}.",
  "a photo of a small {}.",
  "a photo of a big {}.",
  "a blurry photo of a {}.",
  "a jpeg corrupted photo of a {}.",
  "a low resolution photo of the {}.",
  "a close-up photo of a {}.",
  "a bright photo of a {}.",
  "a dark photo of the {}.",
  "a drawing of a {}.",
  "a rendering of a {}.",
  "a cropped photo of the {}.",
  "a good photo of the {}.",
  "itap of a {}.",
  "art of the {}.",
  "a {} in a video game.",
  "a plastic {}.",
  "a toy {}.",
  "a sketch of a {}.",
  "a pixelated photo of the {}.",
  "a photo of my {}.",
  "there is a {} in the picture.",
  "{}",
];

const FRAMES = [
  "a photo of {}.",
  "a photo of {}",
  "{}",
  "{}.",
  "a picture of {}",
  "an image of {}.",
  "a drawing of {}",
  "a simple illustration of {}.",
  "a close-up photo of {}.",
  "a blurry photo of {}.",
  "a jpeg corrupted photo of {}.",
  "a low resolution photo of {}.",
  "a rendering of {}",
  "a clip art of {}.",
  "there is {} in the picture",
  "{} in the middle of the image",
  "this is a photo of {}.",
  "a flat graphic with {}.",
];

function sizeWord(scene: Scene, rng: Rng): string {
  if (scene.relativeSize < 0.3 && rng.chance(0.5)) return `${rng.pick(["small", "tiny", "little"])} `;
  if (scene.relativeSize > 0.7 && rng.chance(0.5)) return `${rng.pick(["large", "big"])} `;
  return "";
}

/** The noun phrase for what the scene shows, e.g. "three small blue stars", plus its count claim. */
function subject(scene: Scene, rng: Rng): { phrase: string; countClaim: number } {
  const colour = scene.colour;
  const size = sizeWord(scene, rng);
  if (scene.count === 1) {
    const first = size || colour;
    const lead = rng.chance(0.9) ? article(first) : rng.pick(["one", "a single"]);
    return { phrase: `${lead} ${size}${colour} ${scene.shape}`, countClaim: 1 };
  }
  const plural = PLURALS[scene.shape];
  const roll = rng.next();
  if (roll < 0.55)
    return { phrase: `${NUMBER_WORDS[scene.count]} ${size}${colour} ${plural}`, countClaim: scene.count };
  if (roll < 0.65) return { phrase: `${scene.count} ${size}${colour} ${plural}`, countClaim: scene.count };
  if (roll < 0.72 && scene.count === 2) return { phrase: `a pair of ${colour} ${plural}`, countClaim: 2 };
  if (roll < 0.8)
    return { phrase: `${rng.pick(["some", "several", "a few"])} ${colour} ${plural}`, countClaim: 0 };
  return { phrase: `${size}${colour} ${plural}`, countClaim: 0 };
}

/** One caption for the scene, in a randomly chosen phrasing. */
export function captionFor(scene: Scene, rng: Rng): Caption {
  if (scene.count === 1 && rng.chance(0.25)) {
    const label = `${scene.colour} ${scene.shape}`;
    return { text: rng.pick(PROMPT_TEMPLATES).replace("{}", label), countClaim: 1, backgroundClaim: null };
  }
  const { phrase, countClaim } = subject(scene, rng);
  if (rng.chance(0.25)) {
    const bg = scene.background.name;
    const frame = rng.pick([
      "{} on a {bg} background",
      "a photo of {} on a {bg} background.",
      "{} against a {bg} background",
      "{} on {bg}",
    ]);
    return { text: frame.replace("{}", phrase).replace("{bg}", bg), countClaim, backgroundClaim: bg };
  }
  return { text: rng.pick(FRAMES).replace("{}", phrase), countClaim, backgroundClaim: null };
}

export type BankCaption = { text: string; colour: Colour; shape: Shape; count: number };

/**
 * The canonical caption bank: seven phrasings for each of the 32 colour–shape pairs (all pairs, held-out
 * ones included, since retrieval must work for them too).
 */
export function captionBank(): BankCaption[] {
  const bank: BankCaption[] = [];
  for (const colour of COLOURS) {
    for (const shape of SHAPES) {
      const plural = PLURALS[shape];
      const one = `${article(colour)} ${colour} ${shape}`;
      bank.push(
        { text: `a photo of ${one}.`, colour, shape, count: 1 },
        { text: one, colour, shape, count: 1 },
        { text: `a photo of two ${colour} ${plural}.`, colour, shape, count: 2 },
        { text: `two ${colour} ${plural}`, colour, shape, count: 2 },
        { text: `a photo of three ${colour} ${plural}.`, colour, shape, count: 3 },
        { text: `three ${colour} ${plural}`, colour, shape, count: 3 },
        { text: `some ${colour} ${plural}`, colour, shape, count: 0 },
      );
    }
  }
  return bank;
}

/**
 * The caption bank as a corpus file's text: each distinct caption once, one per line, in the bank's order — what
 * the embedded model's caption bank is built from (`npm run captions:build -- --corpus FILE`).
 *
 * @example captionCorpus().split("\n")[0] === "a photo of a red circle."
 */
export function captionCorpus(): string {
  return `${[...new Set(captionBank().map((caption) => caption.text))].join("\n")}\n`;
}

/** Zero-shot prompts, exactly as the acceptance test words them. */
export function zeroShotPrompt(colour: Colour, shape: Shape): string {
  return `a photo of a ${colour} ${shape}.`;
}
