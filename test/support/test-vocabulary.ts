import { vocabularyFromMerges } from "../../src/tokenizer/vocabulary.ts";

/**
 * A small deterministic CLIP-format vocabulary for tests that must not depend on OpenAI's files: the merges that
 * spell a few English words, learned greedily from their letters.
 */
export function testVocabulary(
  words = ["a", "photo", "of", "the", "cat", "dog", "red", "circle", "aaaa", "abab"],
) {
  const merges: [string, string][] = [];
  const known = new Set<string>();
  for (const word of words) {
    let symbols = [...word];
    symbols[symbols.length - 1] += "</w>";
    while (symbols.length > 1) {
      const [left, right] = symbols as [string, string];
      if (!known.has(left + right)) {
        merges.push([left, right]);
        known.add(left + right);
      }
      symbols = [left + right, ...symbols.slice(2)];
    }
  }
  return vocabularyFromMerges(merges);
}
