import { BYTE_ORDER, BYTE_TO_UNICODE } from "./byte-unicode.ts";
import { MergeTable } from "./merge-table.ts";
import {
  type ClipVocabulary,
  END_OF_TEXT,
  END_OF_WORD,
  START_OF_TEXT,
  VocabularyError,
} from "./vocabulary.ts";

/** What tokenisation needs of a vocabulary, all by id: built from token texts, or straight from the compact form. */
export interface CompiledVocabulary {
  readonly size: number;
  /** byte → id of its symbol, and of its symbol with `</w>`. */
  readonly byteIds: Int32Array;
  readonly byteEndIds: Int32Array;
  readonly merges: MergeTable;
  /** The longest token in bytes. */
  readonly longestToken: number;
  /** A token's text, for decoding (may be built on first use). */
  tokenText(id: number): string | undefined;
}

/**
 * Compiles token texts and merges into id tables, checking that every merge joins known tokens and that the special
 * tokens are the last two ids.
 *
 * @example compileVocabulary(vocabularyFromMerges([["i", "n"]])).merges.rank(idOf("i"), idOf("n")) === 0
 */
export function compileVocabulary(vocabulary: ClipVocabulary): CompiledVocabulary {
  const { tokens, merges } = vocabulary;
  if (tokens.length < 514)
    throw new VocabularyError(`a CLIP vocabulary has at least 514 tokens, got ${tokens.length}`);
  if (tokens[tokens.length - 2] !== START_OF_TEXT || tokens[tokens.length - 1] !== END_OF_TEXT) {
    throw new VocabularyError(`the last two tokens must be ${START_OF_TEXT} and ${END_OF_TEXT}`);
  }
  const ids = new Map<string, number>();
  for (const [id, token] of tokens.entries()) ids.set(token, id);
  const idOf = (token: string): number => {
    const id = ids.get(token);
    if (id === undefined)
      throw new VocabularyError(`token ${JSON.stringify(token)} is not in the vocabulary`);
    return id;
  };
  const byteIds = new Int32Array(256);
  const byteEndIds = new Int32Array(256);
  for (let byte = 0; byte < 256; byte++) {
    byteIds[byte] = idOf(BYTE_TO_UNICODE[byte] as string);
    byteEndIds[byte] = idOf(BYTE_TO_UNICODE[byte] + END_OF_WORD);
  }
  const table = new MergeTable(merges.length);
  for (const [left, right] of merges) table.add(idOf(left), idOf(right), idOf(left + right));
  return {
    size: tokens.length,
    byteIds,
    byteEndIds,
    merges: table,
    longestToken: tokens.reduce((longest, token) => Math.max(longest, token.length), 0),
    tokenText: (id) => tokens[id],
  };
}

/**
 * The compiled form of a vocabulary whose ids follow from its merges (OpenAI's construction): byte symbols in
 * {@link BYTE_ORDER}, the same with `</w>`, merge i as id 512 + i, then the special tokens. Only the merge pairs are
 * needed; token texts are rebuilt on the first decode.
 */
export function compileMergeOrderVocabulary(pairs: Uint32Array, longestToken: number): CompiledVocabulary {
  const mergeCount = pairs.length / 2;
  const size = 512 + mergeCount + 2;
  const byteIds = new Int32Array(256);
  const byteEndIds = new Int32Array(256);
  for (const [id, byte] of BYTE_ORDER.entries()) {
    byteIds[byte] = id;
    byteEndIds[byte] = id + 256;
  }
  const table = new MergeTable(mergeCount);
  for (let rank = 0; rank < mergeCount; rank++) {
    const left = pairs[2 * rank] as number;
    const right = pairs[2 * rank + 1] as number;
    if (left >= 512 + rank || right >= 512 + rank) {
      throw new VocabularyError(
        `merge ${rank} joins token ${Math.max(left, right)}, which does not exist yet`,
      );
    }
    table.add(left, right, 512 + rank);
  }
  let texts: string[] | undefined;
  const allTexts = (): string[] => {
    const built = BYTE_ORDER.map((byte) => BYTE_TO_UNICODE[byte] as string);
    for (let id = 0; id < 256; id++) built.push(built[id] + END_OF_WORD);
    for (let rank = 0; rank < mergeCount; rank++)
      built.push(built[pairs[2 * rank] as number] + (built[pairs[2 * rank + 1] as number] as string));
    built.push(START_OF_TEXT, END_OF_TEXT);
    return built;
  };
  return {
    size,
    byteIds,
    byteEndIds,
    merges: table,
    longestToken,
    tokenText: (id) => {
      texts ??= allTexts();
      return texts[id];
    },
  };
}
