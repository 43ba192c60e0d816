/**
 * Learns byte-level BPE merges in CLIP's flavour: words come from CLIP's pre-tokeniser, each word is a sequence
 * of byte symbols (GPT-2's byte-to-unicode characters) whose last symbol carries `</w>`.
 */
import { BYTE_TO_UNICODE } from "../../../src/tokenizer/byte-unicode.ts";
import { pretokenize } from "../../../src/tokenizer/pretokenize.ts";
import { vocabularyFromMerges } from "../../../src/tokenizer/vocabulary.ts";

export const END_OF_WORD = "</w>";

/** A word as BPE symbols: "cat" → ["c", "a", "t</w>"]. */
export function wordSymbols(word: string): string[] {
  const symbols = [...new TextEncoder().encode(word)].map((byte) => BYTE_TO_UNICODE[byte] as string);
  const last = symbols.length - 1;
  if (last >= 0) symbols[last] = `${symbols[last]}${END_OF_WORD}`;
  return symbols;
}

/** Counts the pre-tokenised words of a weighted corpus. */
export function countWords(lines: Iterable<[string, number]>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const [text, weight] of lines) {
    for (const word of pretokenize(text)) counts.set(word, (counts.get(word) ?? 0) + weight);
  }
  return counts;
}

export type MergeOptions = { maxMerges: number; minFrequency: number };

/**
 * Greedy BPE: repeatedly merge the most frequent adjacent pair (ties broken by the pair's text, so the result is
 * deterministic). Recounting every round is quadratic but the corpus has only a few thousand distinct words.
 */
export function learnMerges(
  wordCounts: Map<string, number>,
  { maxMerges, minFrequency }: MergeOptions,
): [string, string][] {
  const words = [...wordCounts]
    .filter(([word]) => word !== "<|startoftext|>" && word !== "<|endoftext|>")
    .map(([word, count]) => ({ symbols: wordSymbols(word), count }));
  const merges: [string, string][] = [];
  // CLIP's format has one token per merge, so a merge whose result already exists (reached by another path) is
  // banned rather than recorded; the pair then simply never merges.
  const known = new Set(vocabularyFromMerges([]).tokens);
  const banned = new Set<string>();
  while (merges.length < maxMerges) {
    const pairCounts = new Map<string, number>();
    for (const { symbols, count } of words) {
      for (let i = 0; i + 1 < symbols.length; i++) {
        const key = `${symbols[i]} ${symbols[i + 1]}`;
        pairCounts.set(key, (pairCounts.get(key) ?? 0) + count);
      }
    }
    let best = "";
    let bestCount = 0;
    for (const [key, count] of pairCounts) {
      if (banned.has(key)) continue;
      if (count > bestCount || (count === bestCount && key < best)) {
        best = key;
        bestCount = count;
      }
    }
    if (bestCount < minFrequency) break;
    const [left, right] = best.split(" ") as [string, string];
    const merged = left + right;
    if (known.has(merged)) {
      banned.add(best);
      continue;
    }
    known.add(merged);
    merges.push([left, right]);
    for (const word of words) {
      const s = word.symbols;
      const out: string[] = [];
      for (let i = 0; i < s.length; i++) {
        if (i + 1 < s.length && s[i] === left && s[i + 1] === right) {
          out.push(merged);
          i++;
        } else out.push(s[i] as string);
      }
      word.symbols = out;
    }
  }
  return merges;
}
