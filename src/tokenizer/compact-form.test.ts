import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { sharedDataPresent } from "../../test/support/shared-data.ts";
import { testVocabulary } from "../../test/support/test-vocabulary.ts";
import { ClipTokenizer } from "./clip-tokenizer.ts";
import { decodeCompactVocabulary, encodeCompactVocabulary } from "./compact-form.ts";
import { parseMerges, VocabularyError, vocabularyFromMerges } from "./vocabulary.ts";

const texts = ["a photo of the cat", "A RED circle!!", "naïve café 😀 &amp; <|endoftext|>", "aaaa abab", ""];

describe("compact vocabulary form", () => {
  it("tokenizes exactly as the full vocabulary, and decodes the same text", () => {
    const vocabulary = testVocabulary();
    const full = new ClipTokenizer(vocabulary);
    const compact = new ClipTokenizer(decodeCompactVocabulary(encodeCompactVocabulary(vocabulary)));
    expect(compact.vocabularySize).toBe(full.vocabularySize);
    for (const text of texts) {
      expect(compact.encode(text)).toEqual(full.encode(text));
      expect(compact.decode(compact.encode(text))).toBe(full.decode(full.encode(text)));
    }
  });

  const merges = new URL("../../../shared/clip/bpe_simple_vocab_16e6.txt.gz", import.meta.url);
  it.skipIf(!sharedDataPresent("the full-vocabulary size test", merges))(
    "holds OpenAI's 49,408-token vocabulary in under 200 KiB",
    () => {
      const vocabulary = vocabularyFromMerges(parseMerges(gunzipSync(readFileSync(merges)).toString("utf8")));
      const bytes = encodeCompactVocabulary(vocabulary);
      expect(bytes.length).toBeLessThan(200 * 1024);
      const tokenizer = new ClipTokenizer(decodeCompactVocabulary(bytes));
      expect(tokenizer.vocabularySize).toBe(49408);
      expect(tokenizer.encode("a photo of a cat")).toEqual([49406, 320, 1125, 539, 320, 2368, 49407]);
    },
  );

  it("refuses a vocabulary whose ids do not follow its merges", () => {
    const vocabulary = testVocabulary();
    const swapped = [...vocabulary.tokens];
    [swapped[600], swapped[601]] = [swapped[601] as string, swapped[600] as string];
    expect(() => encodeCompactVocabulary({ tokens: swapped, merges: vocabulary.merges })).toThrow(
      VocabularyError,
    );
  });

  it.each([
    ["empty bytes", new Uint8Array(0)],
    ["wrong magic", new Uint8Array(16)],
    ["a truncated body", encodeCompactVocabulary(testVocabulary()).slice(0, 40)],
  ])("rejects %s", (_, bytes) => {
    expect(() => decodeCompactVocabulary(bytes)).toThrow(VocabularyError);
  });

  it("rejects merges that refer to tokens not yet defined", () => {
    const bytes = encodeCompactVocabulary(testVocabulary());
    new DataView(bytes.buffer).setUint16(16, 60000, true);
    expect(() => decodeCompactVocabulary(bytes)).toThrow(/does not exist yet/);
  });
});
