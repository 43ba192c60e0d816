/**
 * The embedded model's caption corpus: every caption of the shapes world's canonical caption bank, one per line.
 *
 * Usage: node tools/tiny-clip/captions-corpus.ts [--out FILE]   (stdout without --out)
 * Then:  npm run captions:build -- --corpus FILE --model models/tiny-clip
 */
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { captionBank } from "./shapes-world/index.ts";

/** The corpus text. @example shapesWorldCorpus().split("\n")[0] === "a photo of a red circle." (for the first colour and shape) */
export function shapesWorldCorpus(): string {
  return `${[...new Set(captionBank().map((caption) => caption.text))].join("\n")}\n`;
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { out: { type: "string" } } });
  if (values.out) writeFileSync(values.out, shapesWorldCorpus());
  else process.stdout.write(shapesWorldCorpus());
}
