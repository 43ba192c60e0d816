import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { corpusFormat, parseCorpusLine, readCorpus } from "./corpus.ts";

describe("caption corpora", () => {
  const root = mkdtemp(join(tmpdir(), "captions-corpus-"));
  afterAll(async () => rm(await root, { recursive: true, force: true }));
  const file = async (name: string, text: string) => {
    const path = join(await root, name);
    await writeFile(path, text);
    return path;
  };

  it("one caption per line: trimmed, blank lines skipped, repeats dropped in first-seen order, CRLF and BOM handled", async () => {
    const read = await readCorpus(
      await file(
        "plain.txt",
        "\uFEFFa red circle\r\n\r\n  two blue stars \r\na red circle\nthree\tgreen squares",
      ),
    );
    expect(read).toEqual({
      ok: true,
      corpus: { texts: ["a red circle", "two blue stars", "three\tgreen squares"], lines: 5, duplicates: 1 },
    });
  });

  it("JSON lines: objects with text, or strings; a caption with a line break is refused with its line number", async () => {
    const path = await file(
      "captions.jsonl",
      '{"text": "a cat", "source": "x"}\n"a dog"\n\n{"text": "a cat"}\n',
    );
    expect(await readCorpus(path)).toMatchObject({
      ok: true,
      corpus: { texts: ["a cat", "a dog"], duplicates: 1 },
    });
    const broken = await file("broken.jsonl", '"fine"\n{"text": "two\\nlines"}\n');
    expect(await readCorpus(broken)).toEqual({
      ok: false,
      message: `${broken}:2: the caption contains a line break`,
    });
    const notJson = await file("bad.ndjson", "plain text\n");
    expect(await readCorpus(notJson)).toMatchObject({
      ok: false,
      message: expect.stringContaining(":1: not JSON"),
    });
    expect(parseCorpusLine('{"caption": "x"}', "jsonl")).toMatchObject({
      ok: false,
      message: expect.stringContaining('{"text"'),
    });
  });

  it("a missing or empty corpus is an error, not an empty bank", async () => {
    expect(await readCorpus(join(await root, "missing.txt"))).toMatchObject({
      ok: false,
      message: expect.stringContaining("cannot read"),
    });
    expect(await readCorpus(await file("blank.txt", "\n  \n"))).toMatchObject({
      ok: false,
      message: expect.stringContaining("no captions"),
    });
  });

  it("picks the format by extension", () => {
    expect([
      corpusFormat("a.jsonl"),
      corpusFormat("a.NDJSON"),
      corpusFormat("a.txt"),
      corpusFormat("a"),
    ]).toEqual(["jsonl", "jsonl", "lines", "lines"]);
  });
});
