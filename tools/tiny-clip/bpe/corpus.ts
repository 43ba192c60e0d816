/**
 * The text the BPE merges are learned from: shapes-world captions (the bulk), CLIP prompt templates filled with
 * shapes-world and everyday labels, number words and digits, and a list of common English words.
 */
import { captionBank, describeSample, PROMPT_TEMPLATES } from "../../../shapes-world/index.ts";
import { ENGLISH_WORDS, NUMBER_WORDS_EXTRA } from "./english-words.ts";

export type CorpusOptions = { seed: number; captions: number };

/** Yields [text, weight] lines; weights let the small word lists count without drowning the captions. */
export function* buildCorpus({ seed, captions }: CorpusOptions): Generator<[string, number]> {
  for (let i = 0; i < captions; i++) {
    yield [describeSample(seed, i, { pairs: "all" }).caption.text, 1];
  }
  for (const caption of captionBank()) yield [caption.text, 2];
  const everyday = ENGLISH_WORDS.split(/\s+/).filter(Boolean);
  for (const word of everyday) {
    yield [word, 3];
    for (const template of PROMPT_TEMPLATES.slice(0, 8)) yield [template.replace("{}", word), 1];
  }
  for (const line of NUMBER_WORDS_EXTRA) yield [line, 5];
}
