import { applyMerges } from "./bpe.ts";
import { UNICODE_TO_BYTE } from "./byte-unicode.ts";
import { type CompiledVocabulary, compileVocabulary } from "./compiled-vocabulary.ts";
import { cleanText, WORD } from "./pretokenize.ts";
import { type ClipVocabulary, END_OF_TEXT, END_OF_WORD, START_OF_TEXT } from "./vocabulary.ts";

export interface TokenizeOptions {
  /** Length of every output row, start and end tokens included (CLIP: 77). */
  contextLength?: number;
  /** Cut long texts, keeping the end token last, as the reference does; when false a long text throws. */
  truncate?: boolean;
}

/** Fixed-length rows of ids, zero-padded as the reference pads them. */
export interface TokenizedBatch {
  ids: Int32Array[];
  /** Per row, how many ids are real (start and end tokens included); the rest is padding. */
  lengths: number[];
  /** Per row, whether the text had more tokens than fit and was cut. */
  truncated: boolean[];
}

export interface ClipTokenizerOptions {
  /** How many distinct words to remember the merges of (bounded, so hostile input cannot grow memory). */
  wordCacheSize?: number;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

// A private copy of the word pattern: its lastIndex is reset at each use, which is safe as scanning never awaits.
const WORD_SCANNER = new RegExp(WORD);

// Words longer than this are merged every time rather than remembered: they are rare and would crowd the cache.
const MAX_CACHED_WORD = 64;

/**
 * OpenAI's CLIP tokenizer (`simple_tokenizer.py`), id for id.
 *
 * @example
 * const tokenizer = new ClipTokenizer(vocabularyFromMerges(parseMerges(mergesText)));
 * tokenizer.encode("a photo of a cat") // → [49406, 320, 1125, 539, 320, 2368, 49407] with OpenAI's vocabulary
 */
export class ClipTokenizer {
  readonly vocabularySize: number;
  readonly startId: number;
  readonly endId: number;
  private readonly vocabulary: CompiledVocabulary;
  private readonly wordCache = new Map<string, Int32Array>();
  private readonly wordCacheSize: number;

  /** From token texts and merges (checked), or from an already compiled vocabulary such as the compact form. */
  constructor(vocabulary: ClipVocabulary | CompiledVocabulary, options: ClipTokenizerOptions = {}) {
    this.vocabulary = "tokens" in vocabulary ? compileVocabulary(vocabulary) : vocabulary;
    this.vocabularySize = this.vocabulary.size;
    this.startId = this.vocabularySize - 2;
    this.endId = this.vocabularySize - 1;
    this.wordCacheSize = options.wordCacheSize ?? 50_000;
  }

  /** The ids of one text with start and end tokens, untruncated (the reference's `[sot] + encode(text) + [eot]`). */
  encode(text: string): number[] {
    const ids = [this.startId];
    this.appendWords(cleanText(text), ids, Number.POSITIVE_INFINITY);
    ids.push(this.endId);
    return ids;
  }

  /**
   * Fixed-length rows for the text encoder, like openai/CLIP's `clip.tokenize`. Work stops once a row is full, so a
   * 1 MB text costs little more than its clean-up.
   *
   * @example tokenizer.tokenize(["a dog"], { contextLength: 8 }) → { ids: [[sot, a, dog, eot, 0, 0, 0, 0]], lengths: [4], truncated: [false] }
   */
  tokenize(texts: readonly string[], options: TokenizeOptions = {}): TokenizedBatch {
    const contextLength = options.contextLength ?? 77;
    if (!Number.isInteger(contextLength) || contextLength < 2)
      throw new RangeError("contextLength must be ≥ 2");
    const batch: TokenizedBatch = { ids: [], lengths: [], truncated: [] };
    for (const text of texts) {
      const ids = [this.startId];
      // One token more than fits tells whether the text was cut.
      this.appendWords(cleanText(text), ids, contextLength);
      const truncated = ids.length + 1 > contextLength;
      if (truncated && options.truncate === false) {
        throw new RangeError(
          `text is longer than the context length ${contextLength}: ${text.slice(0, 40)}…`,
        );
      }
      ids.length = Math.min(ids.length, contextLength - 1);
      ids.push(this.endId);
      const row = new Int32Array(contextLength);
      row.set(ids);
      batch.ids.push(row);
      batch.lengths.push(ids.length);
      batch.truncated.push(truncated);
    }
    return batch;
  }

  /**
   * Text back from ids, as the reference decodes: tokens joined, bytes decoded as UTF-8 (invalid sequences become
   * U+FFFD), every `</w>` turned into a space. Unknown ids decode to U+FFFD.
   *
   * @example tokenizer.decode(tokenizer.encode("A cat!").slice(1, -1)) === "a cat ! "
   */
  decode(ids: readonly number[]): string {
    const bytes: number[] = [];
    for (const id of ids) {
      const token = Number.isInteger(id) ? this.vocabulary.tokenText(id) : undefined;
      if (token === undefined) {
        bytes.push(0xef, 0xbf, 0xbd);
        continue;
      }
      for (const symbol of token) bytes.push(UNICODE_TO_BYTE.get(symbol) ?? 0x3f);
    }
    return new TextDecoder().decode(Uint8Array.from(bytes)).replaceAll(END_OF_WORD, " ");
  }

  private appendWords(cleaned: string, out: number[], limit: number): void {
    const pattern = WORD_SCANNER;
    pattern.lastIndex = 0;
    for (
      let match = pattern.exec(cleaned);
      match !== null && out.length < limit;
      match = pattern.exec(cleaned)
    ) {
      const word = match[0];
      if (word === START_OF_TEXT) out.push(this.startId);
      else if (word === END_OF_TEXT) out.push(this.endId);
      else for (const id of this.wordIds(this.relevantPart(word, limit - out.length))) out.push(id);
    }
  }

  /**
   * A row of limited length needs only the start of a giant word (a 1 MB run of letters would otherwise cost a second
   * of BPE). Keeping twice the bytes the row can hold leaves a wide margin: a cut changes merges only near the cut, a
   * few symbols deep, far from the tokens kept.
   */
  private relevantPart(word: string, tokensWanted: number): string {
    const keep = 2 * (tokensWanted + 1) * this.vocabulary.longestToken;
    if (word.length <= keep) return word;
    const end = isHighSurrogate(word.charCodeAt(keep - 1)) ? keep - 1 : keep;
    return word.slice(0, end);
  }

  private wordIds(word: string): Int32Array {
    const cached = this.wordCache.get(word);
    if (cached !== undefined) return cached;
    const ids = applyMerges(this.byteSymbols(word), this.vocabulary.merges);
    if (word.length <= MAX_CACHED_WORD) {
      if (this.wordCache.size >= this.wordCacheSize)
        this.wordCache.delete(this.wordCache.keys().next().value as string);
      this.wordCache.set(word, ids);
    }
    return ids;
  }

  /** The word's UTF-8 bytes as byte-symbol ids, the last one with `</w>`; lone surrogates become U+FFFD. */
  private byteSymbols(word: string): Int32Array {
    const bytes = new TextEncoder().encode(word);
    const symbols = new Int32Array(bytes.length);
    const { byteIds, byteEndIds } = this.vocabulary;
    for (let i = 0; i < bytes.length; i++) symbols[i] = byteIds[bytes[i] as number] as number;
    symbols[bytes.length - 1] = byteEndIds[bytes[bytes.length - 1] as number] as number;
    return symbols;
  }
}
