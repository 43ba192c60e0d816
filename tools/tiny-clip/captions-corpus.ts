/**
 * Writes the embedded model's caption corpus: the shapes world's caption bank, one caption per line
 * (`captionCorpus()` in shapes-world/).
 *
 * Usage: node tools/tiny-clip/captions-corpus.ts [--out FILE]   (stdout without --out)
 * Then:  npm run captions:build -- --corpus FILE --model models/tiny-clip
 */
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { captionCorpus } from "../../shapes-world/index.ts";

const { values } = parseArgs({ options: { out: { type: "string" } } });
if (values.out) writeFileSync(values.out, captionCorpus());
else process.stdout.write(captionCorpus());
