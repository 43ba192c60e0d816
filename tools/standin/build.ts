/**
 * Builds models/standin-vit-b-32/: random weights with exactly openai/clip-vit-base-patch32's architecture and
 * config, in the Hugging Face/Xenova ONNX layout, for measuring the system at real size (issue 15). Real weights
 * cannot reach these machines; the real shape can. The folder is git-ignored and never committed.
 *
 * The fp32 encoders come from tools/standin/export.py (Debian's torch; Python only here, never at run time or in CI),
 * their fp16 and int8 variants from tools/standin/variants.py (onnx's helper API: Debian's onnx 1.12 has no converter
 * or quantizer of its own); the tokenizer files are generated from OpenAI's bpe_simple_vocab_16e6.txt.gz
 * (../shared/clip/) by our own tokenizer code, so none of that data is copied into the repo.
 *
 * Usage: npm run model:standin [-- --out models/standin-vit-b-32] [--bpe ../shared/clip/bpe_simple_vocab_16e6.txt.gz]
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { loadClipVocabulary } from "../../gpu-service/model/tokenizer-files.ts";
import { huggingFaceTokenizerFiles } from "../../src/tokenizer/huggingface-format.ts";
import { standinConfig, standinModelCard, standinPreprocessor } from "./files.ts";

const PYTHON = "/usr/bin/python3";
const APT_LINE = "apt-get install -y python3-torch python3-onnx python3-numpy libopenblas0-pthread";
/** Fixed so every build of the stand-in is the same model (embeddings comparable across machines and runs). */
export const STANDIN_SEED = 15;

const { values } = parseArgs({
  options: {
    out: { type: "string", default: "models/standin-vit-b-32" },
    bpe: { type: "string", default: "../shared/clip/bpe_simple_vocab_16e6.txt.gz" },
  },
});
const out = values.out;
const started = performance.now();

if (!existsSync(values.bpe)) {
  console.error(`model:standin needs OpenAI's BPE file at ${values.bpe} (--bpe PATH)`);
  process.exit(1);
}
const check = spawnSync(PYTHON, ["-c", "import torch, onnx, numpy"], { stdio: "inherit" });
if (check.status !== 0) {
  console.error(`model:standin needs Debian's Python with torch and onnx: ${APT_LINE}`);
  process.exit(1);
}

mkdirSync(join(out, "onnx"), { recursive: true });
const vocabulary = await loadClipVocabulary(values.bpe);
for (const [name, text] of Object.entries(huggingFaceTokenizerFiles(vocabulary)))
  writeFileSync(join(out, name), text);
writeFileSync(join(out, "config.json"), `${JSON.stringify(standinConfig(), null, 2)}\n`);
writeFileSync(join(out, "preprocessor_config.json"), `${JSON.stringify(standinPreprocessor(), null, 2)}\n`);
console.log(`standin: vocabulary ${vocabulary.tokens.length} tokens → ${out}`);

const exported = python("export.py", [out, String(STANDIN_SEED)]);
if (exported.status !== 0) {
  console.error("standin: the ONNX export failed (above)");
  process.exit(1);
}
const parameters = /vision ([\d,]+) text ([\d,]+)/.exec(exported.stdout);
// The fp32 folder serves without the variants, so a failure here still writes the card (listing what exists).
const variants = python("variants.py", [out]);
if (variants.status !== 0) console.error("standin: the fp16/int8 variants failed (above); fp32 is complete");
const seconds = (performance.now() - started) / 1000;
const bytes = folderBytes(out);
writeFileSync(
  join(out, "README.md"),
  standinModelCard({
    seed: STANDIN_SEED,
    seconds,
    bytes,
    visionParameters: parameters?.[1] ?? "?",
    textParameters: parameters?.[2] ?? "?",
    encoders: readdirSync(join(out, "onnx"))
      .filter((name) => name.endsWith(".onnx"))
      .sort()
      .map((name) => ({ name, bytes: statSync(join(out, "onnx", name)).size })),
  }),
);
console.log(`standin: ${(bytes / 2 ** 20).toFixed(0)} MiB in ${seconds.toFixed(0)} s → ${out}`);
if (variants.status !== 0) process.exit(1);

function python(script: string, args: string[]) {
  const run = spawnSync(PYTHON, [join("tools/standin", script), ...args], {
    stdio: ["ignore", "pipe", "inherit"],
    encoding: "utf8",
  });
  process.stdout.write(run.stdout);
  return run;
}

function folderBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    total += entry.isDirectory() ? folderBytes(path) : statSync(path).size;
  }
  return total;
}
