import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { testVocabulary } from "../../test/support/test-vocabulary.ts";
import { applyMergesByScan, applyMergesWithHeap } from "./bpe.ts";
import { ClipTokenizer } from "./clip-tokenizer.ts";
import { MergeTable } from "./merge-table.ts";
import { vocabularyFromMerges } from "./vocabulary.ts";

const tokenizer = new ClipTokenizer(testVocabulary());
const { startId: SOT, endId: EOT } = tokenizer;
const idsOf = (...tokens: string[]) => tokens.map((t) => testVocabulary().tokens.indexOf(t));

describe("ClipTokenizer.encode", () => {
  it("merges known words into single tokens between start and end", () => {
    expect(tokenizer.encode("A photo of the CAT")).toEqual([
      SOT,
      ...idsOf("a</w>", "photo</w>", "of</w>", "the</w>", "cat</w>"),
      EOT,
    ]);
  });

  it("gives [start, end] for empty and whitespace-only text", () => {
    expect(tokenizer.encode("")).toEqual([SOT, EOT]);
    expect(tokenizer.encode(" \t\n\u3000 ")).toEqual([SOT, EOT]);
  });

  it("turns special-token text into the special ids, as the reference does", () => {
    expect(tokenizer.encode("cat<|endoftext|>dog")).toEqual([
      SOT,
      ...idsOf("cat</w>"),
      EOT,
      ...idsOf("dog</w>"),
      EOT,
    ]);
    expect(tokenizer.encode("<|STARTOFTEXT|>")).toEqual([SOT, SOT, EOT]);
  });

  it("never throws on lone surrogates, NUL and control characters", () => {
    for (const text of ["\ud800", "a\udc00b", "\u0000", "\u0007\u001b[31m", "\uffff\ufffe", "\u{10ffff}"]) {
      const ids = tokenizer.encode(text);
      expect(ids[0]).toBe(SOT);
      expect(ids.at(-1)).toBe(EOT);
      expect(ids.every((id) => Number.isInteger(id) && id >= 0 && id < tokenizer.vocabularySize)).toBe(true);
    }
  });

  it("encodes any string to valid ids (property)", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 200 }), (text) => {
        const ids = tokenizer.encode(text);
        return (
          ids[0] === SOT && ids.at(-1) === EOT && ids.every((id) => id >= 0 && id < tokenizer.vocabularySize)
        );
      }),
    );
  });
});

describe("ClipTokenizer.tokenize", () => {
  it("pads with zeros to the context length and reports real lengths", () => {
    const batch = tokenizer.tokenize(["a cat", ""], { contextLength: 6 });
    expect(batch.ids.map((row) => Array.from(row))).toEqual([
      [SOT, ...idsOf("a</w>", "cat</w>"), EOT, 0, 0],
      [SOT, EOT, 0, 0, 0, 0],
    ]);
    expect(batch.lengths).toEqual([4, 2]);
    expect(batch.truncated).toEqual([false, false]);
  });

  it("cuts long texts keeping the end token last, or throws when truncation is off", () => {
    const batch = tokenizer.tokenize(["a cat a dog a cat"], { contextLength: 5 });
    expect(Array.from(batch.ids[0] ?? [])).toEqual([SOT, ...idsOf("a</w>", "cat</w>", "a</w>"), EOT]);
    expect(batch.truncated).toEqual([true]);
    expect(batch.lengths).toEqual([5]);
    expect(() => tokenizer.tokenize(["a cat a dog a cat"], { contextLength: 5, truncate: false })).toThrow(
      RangeError,
    );
    // Exactly full is not truncated.
    expect(tokenizer.tokenize(["a cat a"], { contextLength: 5 }).truncated).toEqual([false]);
  });

  it("handles 1 MB strings of every kind with a full, truncated row", () => {
    const huge = [
      "a".repeat(1 << 20),
      `a${" ".repeat(1 << 20)}b`,
      "&amp;".repeat(200_000),
      "!?".repeat(500_000),
      "9".repeat(1 << 20),
      "😀".repeat(1 << 18),
      "\ud800".repeat(1 << 19),
    ];
    const batch = tokenizer.tokenize(huge);
    expect(batch.ids.every((row) => row.length === 77)).toBe(true);
    expect(batch.truncated).toEqual([true, false, true, true, true, true, true]);
    expect(batch.lengths[1]).toBe(4);
  });

  it("the first 77 tokens of a cut giant word equal those of the whole word (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom("a", "b", "ab", "aa", "c"), { minLength: 2_000, maxLength: 6_000 }),
        (parts) => {
          const word = parts.join("");
          const full = tokenizer.encode(word);
          const row = Array.from(tokenizer.tokenize([word]).ids[0] ?? []);
          return JSON.stringify(row) === JSON.stringify([...full.slice(0, 76), EOT]);
        },
      ),
      { numRuns: 20 },
    );
  });
});

describe("ClipTokenizer.decode", () => {
  it("restores cleaned text, with a space for every end of word", () => {
    expect(tokenizer.decode(tokenizer.encode("A  red\tCircle!").slice(1, -1))).toBe("a red circle ! ");
    expect(tokenizer.decode(tokenizer.encode("naïve 😀"))).toBe("<|startoftext|>naïve 😀 <|endoftext|>");
  });

  it("decodes unknown ids and broken UTF-8 to U+FFFD instead of throwing", () => {
    expect(tokenizer.decode([-1, 1e9, 0.5])).toBe("\ufffd\ufffd\ufffd");
  });
});

describe("BPE merge loops", () => {
  it("the heap loop equals the reference scan on random words (property)", () => {
    const vocabulary = testVocabulary();
    const table = new MergeTable(vocabulary.merges.length);
    const idOf = new Map(vocabulary.tokens.map((t, i) => [t, i]));
    for (const [l, r] of vocabulary.merges)
      table.add(idOf.get(l) ?? -1, idOf.get(r) ?? -1, idOf.get(l + r) ?? -1);
    const symbol = fc.constantFrom(..."abcdehloprt").map((ch) => idOf.get(ch) as number);
    fc.assert(
      fc.property(fc.array(symbol, { minLength: 1, maxLength: 300 }), (ids) => {
        const scan = applyMergesByScan(Int32Array.from(ids), table);
        const heap = applyMergesWithHeap(Int32Array.from(ids), table);
        return JSON.stringify(Array.from(scan)) === JSON.stringify(Array.from(heap));
      }),
      { numRuns: 300 },
    );
  });

  it("merges every occurrence of the best pair left to right, as the reference does with 'aaa'", () => {
    const vocabulary = vocabularyFromMerges([["a", "a"]]);
    const t = new ClipTokenizer(vocabulary);
    const id = (token: string) => vocabulary.tokens.indexOf(token);
    expect(t.encode("aaaaa").slice(1, -1)).toEqual([id("aa"), id("aa"), id("a</w>")]);
  });
});
