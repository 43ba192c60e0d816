import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { VocabularyError } from "../../src/tokenizer/index.ts";
import { testVocabulary } from "../../test/support/test-vocabulary.ts";
import { loadClipTokenizer } from "./tokenizer-files.ts";

const vocabulary = testVocabulary();
const mergesText = `#version: 0.2\n${vocabulary.merges.map((m) => m.join(" ")).join("\n")}\n`;
const vocabJson = JSON.stringify(Object.fromEntries(vocabulary.tokens.map((t, i) => [t, i])));
const expected = [
  vocabulary.tokens.length - 2,
  vocabulary.tokens.indexOf("red</w>"),
  vocabulary.tokens.indexOf("cat</w>"),
  vocabulary.tokens.length - 1,
];

function folder(files: Record<string, string | Uint8Array>): string {
  const dir = mkdtempSync(join(tmpdir(), "vocab-"));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return dir;
}

function tokenizerJson(mergeStyle: "strings" | "pairs"): string {
  const merges = vocabulary.merges.map((m) => (mergeStyle === "strings" ? m.join(" ") : [...m]));
  const special = vocabulary.tokens.slice(-2);
  const vocab = Object.fromEntries(vocabulary.tokens.slice(0, -2).map((t, i) => [t, i]));
  const added = special.map((content, i) => ({
    id: vocabulary.tokens.length - 2 + i,
    content,
    special: true,
  }));
  return JSON.stringify({
    model: { type: "BPE", vocab, merges, end_of_word_suffix: "</w>" },
    added_tokens: added,
  });
}

describe("loadClipTokenizer", () => {
  it.each([
    [
      "a Hugging Face folder with vocab.json + merges.txt",
      () => folder({ "vocab.json": vocabJson, "merges.txt": mergesText }),
    ],
    [
      "a folder with only tokenizer.json (merges as strings)",
      () => folder({ "tokenizer.json": tokenizerJson("strings") }),
    ],
    [
      "a tokenizer.json file (merges as pairs)",
      () => join(folder({ "tokenizer.json": tokenizerJson("pairs") }), "tokenizer.json"),
    ],
    ["a merges.txt file", () => join(folder({ "merges.txt": mergesText }), "merges.txt")],
    ["a gzipped merges file", () => join(folder({ "m.txt.gz": gzipSync(mergesText) }), "m.txt.gz")],
  ])("reads %s", async (_, path) => {
    const tokenizer = await loadClipTokenizer(path());
    expect(tokenizer.vocabularySize).toBe(vocabulary.tokens.length);
    expect(tokenizer.encode("Red cat")).toEqual(expected);
  });

  it.each([
    ["a missing path", () => "/nonexistent/vocab", /no vocabulary at/],
    ["an empty folder", () => folder({}), /neither vocab.json \+ merges.txt nor tokenizer.json/],
    [
      "a malformed merges line",
      () => join(folder({ "merges.txt": "#version: 0.2\na b c\n" }), "merges.txt"),
      /line 2/,
    ],
    [
      "invalid vocab.json",
      () => folder({ "vocab.json": "{", "merges.txt": mergesText }),
      /vocab.json is not valid JSON/,
    ],
    [
      "a merge of unknown tokens",
      () => folder({ "vocab.json": vocabJson, "merges.txt": "x yz\n" }),
      /not in the vocabulary/,
    ],
    [
      "a tokenizer.json without BPE",
      () => folder({ "tokenizer.json": '{"model":{"type":"WordPiece"}}' }),
      /no BPE model/,
    ],
  ])("rejects %s with a VocabularyError naming the problem", async (_, path, message) => {
    const error = await loadClipTokenizer(path()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VocabularyError);
    expect((error as Error).message).toMatch(message);
  });
});
