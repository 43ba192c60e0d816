/**
 * Learns the tiny CLIP's byte-level BPE vocabulary from the shapes-world caption corpus and writes the tokenizer
 * files into the model folder.
 *
 * Usage: node tools/tiny-clip/bpe-train.ts [--out models/tiny-clip] [--vocab 4096]
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { huggingFaceTokenizerFiles } from "../../src/tokenizer/huggingface-format.ts";
import { type ClipVocabulary, vocabularyFromMerges } from "../../src/tokenizer/vocabulary.ts";
import { buildCorpus } from "./bpe/corpus.ts";
import { countWords, learnMerges } from "./bpe/train-merges.ts";

/** Corpus seed: disjoint from the image seeds used for training and evaluation. */
export const CORPUS_SEED = 1001;

/** Learns merges (at most `vocabSize` tokens in all) from the shapes-world corpus. */
export function trainVocabulary(vocabSize: number): { vocabulary: ClipVocabulary; distinctWords: number } {
  const counts = countWords(buildCorpus({ seed: CORPUS_SEED, captions: 30_000 }));
  const merges = learnMerges(counts, { maxMerges: vocabSize - 512 - 2, minFrequency: 2 });
  return { vocabulary: vocabularyFromMerges(merges), distinctWords: counts.size };
}

/** Writes vocab.json, merges.txt, tokenizer.json, tokenizer_config.json and special_tokens_map.json. */
export function writeTokenizerFiles(dir: string, vocabulary: ClipVocabulary): void {
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(huggingFaceTokenizerFiles(vocabulary)))
    writeFileSync(join(dir, name), text);
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      out: { type: "string", default: "models/tiny-clip" },
      vocab: { type: "string", default: "4096" },
    },
  });
  const started = performance.now();
  const { vocabulary, distinctWords } = trainVocabulary(Number(values.vocab));
  writeTokenizerFiles(values.out, vocabulary);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(
    `bpe: ${distinctWords} distinct words → ${vocabulary.merges.length} merges, vocabulary ${vocabulary.tokens.length} (${seconds} s) → ${values.out}`,
  );
}
