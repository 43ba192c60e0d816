import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { sharedDataPresent } from "../../test/support/shared-data.ts";
import { ClipTokenizer, parseMerges, vocabularyFromMerges } from "./index.ts";

// OpenAI's merges and reference tokenisations are third-party data beside the repository, never inside it.
const SHARED = new URL("../../../shared/clip/", import.meta.url);
const MERGES = new URL("bpe_simple_vocab_16e6.txt.gz", SHARED);
const GOLDEN = new URL("golden-tokens.jsonl", SHARED);
const present = sharedDataPresent("OpenAI parity tests", MERGES, GOLDEN);

/** OpenAI's own vocabulary, parsed by the pure tokenizer (reading files is the Node side's). */
const openAiTokenizer = () =>
  new ClipTokenizer(vocabularyFromMerges(parseMerges(gunzipSync(readFileSync(MERGES)).toString("utf8"))));

describe.skipIf(!present)("parity with OpenAI's simple_tokenizer.py", () => {
  const golden = present
    ? readFileSync(GOLDEN, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line) as { text: string; ids: number[] })
    : [];

  it("encodes all 821 golden texts to the reference ids", async () => {
    const tokenizer = openAiTokenizer();
    expect(tokenizer.vocabularySize).toBe(49408);
    const wrong = golden.filter(
      ({ text, ids }) => JSON.stringify(tokenizer.encode(text)) !== JSON.stringify(ids),
    );
    expect(golden.length).toBe(821);
    expect(wrong.map((g) => g.text)).toEqual([]);
  });

  it("gives the reference's clip.tokenize rows: zero padding, end token kept last when cut", async () => {
    const tokenizer = openAiTokenizer();
    const longest = golden.reduce((a, b) => (b.ids.length > a.ids.length ? b : a));
    const { ids, lengths, truncated } = tokenizer.tokenize([golden[0]?.text ?? "", longest.text], {
      contextLength: 16,
    });
    const first = golden[0]?.ids ?? [];
    expect(Array.from(ids[0] ?? [])).toEqual(
      [...first, ...new Array(16 - first.length).fill(0)].slice(0, 16),
    );
    expect(Array.from(ids[1] ?? [])).toEqual([...longest.ids.slice(0, 15), 49407]);
    expect(lengths).toEqual([Math.min(first.length, 16), 16]);
    expect(truncated).toEqual([first.length > 16, true]);
  });
});
