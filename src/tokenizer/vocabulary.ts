import { BYTE_ORDER, BYTE_TO_UNICODE } from "./byte-unicode.ts";

export const START_OF_TEXT = "<|startoftext|>";
export const END_OF_TEXT = "<|endoftext|>";
export const END_OF_WORD = "</w>";

/** A CLIP BPE vocabulary: every token's text by id, and the merges in rank order. */
export interface ClipVocabulary {
  /** id → token text, e.g. "a", "photo</w>"; the last two are the start and end tokens. */
  readonly tokens: readonly string[];
  /** Merges in rank order, as the pair of token texts they join. */
  readonly merges: readonly (readonly [string, string])[];
}

/** The number of merges `simple_tokenizer.py` reads from OpenAI's merges file, which holds many more. */
export const OPENAI_MERGE_COUNT = 49152 - 256 - 2;

/**
 * CLIP's vocabulary as `simple_tokenizer.py` builds it from merges alone: the 256 byte symbols, the same with
 * `</w>`, one token per merge, then the start and end tokens. This is why the Worker ships only the merges.
 *
 * @example vocabularyFromMerges([["i", "n"]]).tokens.length === 515
 */
export function vocabularyFromMerges(merges: readonly (readonly [string, string])[]): ClipVocabulary {
  const bytes = BYTE_ORDER.map((byte) => BYTE_TO_UNICODE[byte] as string);
  const tokens = [
    ...bytes,
    ...bytes.map((symbol) => symbol + END_OF_WORD),
    ...merges.map(([left, right]) => left + right),
    START_OF_TEXT,
    END_OF_TEXT,
  ];
  return { tokens, merges };
}

/**
 * Parses a merges list: one `left right` pair a line. Comment lines (`#version: 0.2`) and blank lines are skipped;
 * OpenAI's `bpe_simple_vocab_16e6.txt` (recognised by its header) is cut to the merges the reference uses.
 *
 * @example parseMerges("#version: 0.2\ni n\nt h\n") → [["i", "n"], ["t", "h"]]
 */
export function parseMerges(text: string): [string, string][] {
  const lines = text.split("\n");
  const openAiFile = lines[0]?.includes("bpe_simple_vocab") ?? false;
  const merges: [string, string][] = [];
  for (const [index, line] of lines.entries()) {
    if (index === 0 && (openAiFile || line.startsWith("#version"))) continue;
    if (line === "" || line.startsWith("#version")) continue;
    const parts = line.split(" ");
    if (parts.length !== 2 || parts[0] === "" || parts[1] === "") {
      throw new VocabularyError(
        `merges line ${index + 1} is not "left right": ${JSON.stringify(line.slice(0, 80))}`,
      );
    }
    merges.push([parts[0] as string, parts[1] as string]);
    if (openAiFile && merges.length === OPENAI_MERGE_COUNT) break;
  }
  return merges;
}

/** A Hugging Face `vocab.json` (token → id) with its `merges.txt`. */
export function vocabularyFromHuggingFace(vocab: Record<string, number>, mergesText: string): ClipVocabulary {
  return { tokens: tokensById(vocab), merges: parseMerges(mergesText) };
}

/** A Hugging Face `tokenizer.json` with a BPE model (merges as "a b" strings or as [a, b] pairs). */
export function vocabularyFromTokenizerJson(json: unknown): ClipVocabulary {
  const model = (json as { model?: { type?: string; vocab?: unknown; merges?: unknown } } | null)?.model;
  if (model?.type !== "BPE" || typeof model.vocab !== "object" || !Array.isArray(model.merges)) {
    throw new VocabularyError("tokenizer.json has no BPE model with a vocab and merges");
  }
  const vocab = { ...(model.vocab as Record<string, number>) };
  const added = (json as { added_tokens?: { id: number; content: string }[] }).added_tokens ?? [];
  for (const token of added) vocab[token.content] ??= token.id;
  const merges = model.merges.map((merge: unknown): [string, string] => {
    const pair = typeof merge === "string" ? merge.split(" ") : merge;
    if (!Array.isArray(pair) || pair.length !== 2 || pair.some((part) => typeof part !== "string")) {
      throw new VocabularyError(`tokenizer.json has a malformed merge: ${JSON.stringify(merge)}`);
    }
    return [pair[0] as string, pair[1] as string];
  });
  return { tokens: tokensById(vocab), merges };
}

function tokensById(vocab: Record<string, number>): string[] {
  const tokens: string[] = [];
  for (const [token, id] of Object.entries(vocab)) {
    if (!Number.isInteger(id) || id < 0 || id >= 1 << 24)
      throw new VocabularyError(`bad id ${id} for ${token}`);
    tokens[id] = token;
  }
  for (let id = 0; id < tokens.length; id++) {
    if (tokens[id] === undefined) throw new VocabularyError(`the vocabulary has no token with id ${id}`);
  }
  return tokens;
}

/** A vocabulary that cannot be used: the message names the problem. */
export class VocabularyError extends Error {
  override name = "VocabularyError";
}
