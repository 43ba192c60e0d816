import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";

/** Captions read from a corpus file: unique, trimmed, non-empty, in first-seen order. */
export interface Corpus {
  texts: string[];
  /** Lines read, blank ones included. */
  lines: number;
  /** Lines dropped because an identical caption came earlier. */
  duplicates: number;
}

export type CorpusFormat = "lines" | "jsonl";
export type CorpusResult = { ok: true; corpus: Corpus } | { ok: false; message: string };
type LineResult = { ok: true; text: string | undefined } | { ok: false; message: string };

/** `.jsonl` and `.ndjson` files hold JSON lines; anything else one caption per line. @example corpusFormat("x.jsonl") === "jsonl" */
export function corpusFormat(path: string): CorpusFormat {
  return /\.(jsonl|ndjson)$/i.test(path) ? "jsonl" : "lines";
}

/**
 * Reads a corpus line by line (so its size is bounded by the captions kept, not by the longest string V8 allows):
 * plain text, one caption per line; or JSON lines, each `{"text": "..."}` or a JSON string. Surrounding whitespace
 * is trimmed, blank lines skipped, repeats dropped. A caption with a line break inside (possible only in JSON) is
 * refused with its line number, since the bank stores one caption per line.
 *
 * @example const read = await readCorpus("captions.txt"); if (read.ok) read.corpus.texts.length
 */
export async function readCorpus(path: string, format = corpusFormat(path)): Promise<CorpusResult> {
  const seen = new Set<string>();
  const corpus: Corpus = { texts: [], lines: 0, duplicates: 0 };
  const input = createReadStream(path, { encoding: "utf8" });
  const opened = new Promise<string | undefined>((resolve) => {
    input.once("open", () => resolve(undefined));
    input.once("error", (error) => resolve(error.message));
  });
  const failure = await opened;
  if (failure) return { ok: false, message: `cannot read the corpus: ${failure}` };
  for await (const line of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) {
    corpus.lines++;
    const parsed = parseCorpusLine(corpus.lines === 1 ? line.replace(/^\uFEFF/, "") : line, format);
    if (!parsed.ok) {
      input.destroy();
      return { ok: false, message: `${path}:${corpus.lines}: ${parsed.message}` };
    }
    if (parsed.text === undefined) continue;
    if (seen.has(parsed.text)) corpus.duplicates++;
    else {
      seen.add(parsed.text);
      corpus.texts.push(parsed.text);
    }
  }
  if (corpus.texts.length === 0) return { ok: false, message: `${path}: no captions (every line is blank)` };
  return { ok: true, corpus };
}

/** One line → its caption, `undefined` for a blank line, or why it is refused. @example parseCorpusLine(' {"text": "a cat "}', "jsonl") → { ok: true, text: "a cat" } */
export function parseCorpusLine(line: string, format: CorpusFormat): LineResult {
  if (line.trim() === "") return { ok: true, text: undefined };
  let text: unknown = line;
  if (format === "jsonl") {
    try {
      const value = JSON.parse(line);
      text = typeof value === "string" ? value : (value as { text?: unknown } | null)?.text;
    } catch (error) {
      return { ok: false, message: `not JSON (${(error as Error).message})` };
    }
    if (typeof text !== "string") return { ok: false, message: 'expected {"text": "..."} or a JSON string' };
  }
  const caption = (text as string).trim();
  if (/[\r\n]/.test(caption)) return { ok: false, message: "the caption contains a line break" };
  return { ok: true, text: caption === "" ? undefined : caption };
}
