// npm run --silent tokenize -- --vocab PATH
// Reads JSON lines {"text": ...} on stdin and writes one line {"ids": [...]} per input, in order (ids as encode()
// gives them: start and end tokens, untruncated). A line that is not {"text": string} gets {"error": ...} instead.
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { loadClipTokenizer } from "../gpu-service/model/tokenizer-files.ts";

const { values } = parseArgs({
  options: { vocab: { type: "string" }, help: { type: "boolean", short: "h" } },
});
if (values.help || !values.vocab) {
  console.error(
    "usage: npm run --silent tokenize -- --vocab PATH  (model folder, tokenizer.json, merges.txt or .txt.gz)",
  );
  process.exit(values.help ? 0 : 2);
}

const tokenizer = await loadClipTokenizer(values.vocab).catch((error: Error) => {
  console.error(`tokenize: ${error.message}`);
  process.exit(1);
});

const out: string[] = [];
const flush = () => {
  if (out.length > 0) process.stdout.write(`${out.join("\n")}\n`);
  out.length = 0;
};
for await (const line of createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY })) {
  out.push(JSON.stringify(encodeLine(line)));
  if (out.length >= 1024) flush();
}
flush();

function encodeLine(line: string): { ids: number[] } | { error: string } {
  let input: unknown;
  try {
    input = JSON.parse(line);
  } catch {
    return { error: "not JSON" };
  }
  const text = (input as { text?: unknown } | null)?.text;
  if (typeof text !== "string") return { error: 'expected {"text": string}' };
  return { ids: tokenizer.encode(text) };
}
