import { mkdtempSync, readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadClipTokenizer } from "../../../gpu-service/model/tokenizer-files.ts";
import { captionBank, describeSample } from "../../../shapes-world/index.ts";
import { BYTE_TO_UNICODE } from "../../../src/tokenizer/byte-unicode.ts";
import { huggingFaceTokenizerFiles } from "../../../src/tokenizer/index.ts";
import { trainVocabulary } from "../bpe-train.ts";
import { countWords, learnMerges, wordSymbols } from "./train-merges.ts";

describe("BPE trainer", () => {
  it("learns the most frequent pairs first (ties by text), stopping below the minimum frequency", () => {
    const counts = countWords([
      ["red red red circle", 1],
      ["red star", 1],
    ]);
    const merges = learnMerges(counts, { maxMerges: 3, minFrequency: 2 });
    // "r e" and "e d</w>" both occur 4 times; "e d</w>" sorts first. Nothing else occurs twice.
    expect(merges).toEqual([
      ["e", "d</w>"],
      ["r", "ed</w>"],
    ]);
    expect(learnMerges(counts, { maxMerges: 3, minFrequency: 2 })).toEqual(merges);
  });

  it("writes words as byte symbols with </w> on the last one", () => {
    expect(wordSymbols("héé")).toEqual(["h", BYTE_TO_UNICODE[0xc3], "©", BYTE_TO_UNICODE[0xc3], "©</w>"]);
  });

  it("produces a CLIP-format vocabulary that round-trips through loadClipTokenizer", async () => {
    const { vocabulary } = trainVocabulary(4096);
    const { tokens, merges } = vocabulary;
    expect(tokens[0]).toBe("!");
    expect(tokens[256]).toBe("!</w>");
    expect(tokens[256 + 64]).toBe("a</w>");
    expect(tokens.slice(-2)).toEqual(["<|startoftext|>", "<|endoftext|>"]);
    expect(new Set(tokens).size).toBe(tokens.length);
    expect(tokens.length).toBe(512 + merges.length + 2);

    const dir = mkdtempSync(join(tmpdir(), "tiny-clip-bpe-"));
    for (const [name, text] of Object.entries(huggingFaceTokenizerFiles(vocabulary)))
      await writeFile(join(dir, name), text);
    expect(readFileSync(join(dir, "merges.txt"), "utf8").split("\n")[0]).toBe("#version: 0.2");
    const tokenizer = await loadClipTokenizer(dir);
    const ids = new Map(tokens.map((t, i) => [t, i]));
    // Every shapes-world word is a single token: the captions are the corpus.
    for (const caption of captionBank()) {
      const encoded = tokenizer.encode(caption.text);
      const words = caption.text.replace(".", " .").split(" ");
      expect(encoded.slice(1, -1), caption.text).toEqual(words.map((w) => ids.get(`${w}</w>`)));
    }
    for (let i = 0; i < 200; i++) {
      const text = describeSample(31, i, { pairs: "all" }).caption.text;
      expect(tokenizer.encode(text).every((id) => id < tokens.length)).toBe(true);
    }
    // Arbitrary labels still tokenize (into pieces, not only bytes).
    expect(tokenizer.encode("a photo of a golden retriever.").length).toBeLessThanOrEqual(16);
  });
});
