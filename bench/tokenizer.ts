// npm run bench:tokenizer — our CLIP tokenizer against Transformers.js and the Hugging Face `tokenizers` binding,
// side by side in one process on OpenAI's golden corpus. Prints texts/s cold (first pass) and warm, and our ratios.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { AutoTokenizer, env } from "@huggingface/transformers";
import { Tokenizer as HfTokenizer } from "tokenizers";
import {
  ClipTokenizer,
  decodeCompactVocabulary,
  encodeCompactVocabulary,
  huggingFaceTokenizerFiles,
  parseMerges,
  vocabularyFromMerges,
} from "../src/tokenizer/index.ts";
import { describeMachine } from "./support/machine.ts";

const shared = new URL("../../shared/clip/", import.meta.url);
if (!existsSync(new URL("golden-tokens.jsonl", shared))) {
  console.error(`bench:tokenizer needs OpenAI's merges and golden corpus at ${shared.pathname}`);
  process.exit(1);
}
const golden = readFileSync(new URL("golden-tokens.jsonl", shared), "utf8")
  .split("\n")
  .filter(Boolean)
  .map((line) => JSON.parse(line) as { text: string; ids: number[] });
const texts = golden.map((g) => g.text);
const mergesText = gunzipSync(readFileSync(new URL("bpe_simple_vocab_16e6.txt.gz", shared))).toString("utf8");
// The Worker's form: the merges as id pairs, which is what the edge compiles at start-up.
const compact = encodeCompactVocabulary(vocabularyFromMerges(parseMerges(mergesText)));

const hfDir = mkdtempSync(join(tmpdir(), "clip-hf-"));
for (const [name, text] of Object.entries(
  huggingFaceTokenizerFiles(vocabularyFromMerges(parseMerges(mergesText))),
)) {
  writeFileSync(join(hfDir, name), text);
}

interface Contender {
  name: string;
  build: () => Promise<(text: string) => Promise<number[]> | number[]>;
}

const contenders: Contender[] = [
  {
    name: "clip-edge encode",
    build: async () => {
      const tokenizer = new ClipTokenizer(decodeCompactVocabulary(compact));
      return (text) => tokenizer.encode(text);
    },
  },
  {
    name: "Transformers.js CLIPTokenizer",
    build: async () => {
      env.allowRemoteModels = false;
      env.localModelPath = "";
      const tokenizer = await AutoTokenizer.from_pretrained(hfDir);
      return (text) => tokenizer.encode(text);
    },
  },
  {
    name: "HF tokenizers (Rust binding)",
    build: async () => {
      const tokenizer = HfTokenizer.fromFile(join(hfDir, "tokenizer.json"));
      return async (text) => (await tokenizer.encode(text)).getIds();
    },
  },
];

async function pass(
  encode: (text: string) => Promise<number[]> | number[],
): Promise<{ ms: number; exact: number }> {
  let exact = 0;
  const start = performance.now();
  for (const [i, text] of texts.entries()) {
    const ids = await encode(text);
    if (ids.length === golden[i]?.ids.length && ids.every((id, k) => id === golden[i]?.ids[k])) exact++;
  }
  return { ms: performance.now() - start, exact };
}

const rows: { name: string; buildMs: number; cold: number; warm: number; exact: number }[] = [];
for (const contender of contenders) {
  const buildStart = performance.now();
  const encode = await contender.build();
  const buildMs = performance.now() - buildStart;
  const cold = await pass(encode);
  let warmMs = 0;
  let warmTexts = 0;
  while (warmMs < 2000) {
    warmMs += (await pass(encode)).ms;
    warmTexts += texts.length;
  }
  rows.push({
    name: contender.name,
    buildMs,
    cold: (texts.length / cold.ms) * 1000,
    warm: (warmTexts / warmMs) * 1000,
    exact: cold.exact,
  });
}

// Construction of the Worker's compact form alone, the figure that matters for the edge's start-up.
const constructions: number[] = [];
for (let i = 0; i < 10; i++) {
  const start = performance.now();
  new ClipTokenizer(decodeCompactVocabulary(compact));
  constructions.push(performance.now() - start);
}
constructions.sort((a, b) => a - b);

const ours = rows[0];
console.log(
  `CLIP tokenizer benchmark — ${texts.length} golden texts, ${describeMachine()}, Node ${process.version}`,
);
console.log(
  "| tokenizer | exact | load ms | cold texts/s | warm texts/s | ours ÷ it (cold) | ours ÷ it (warm) |",
);
console.log("|---|---|---|---|---|---|---|");
for (const row of rows) {
  const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
  console.log(
    `| ${row.name} | ${row.exact}/${texts.length} | ${row.buildMs.toFixed(0)} | ${row.cold.toFixed(0)} | ${row.warm.toFixed(0)} | ${ratio(ours?.cold ?? 0, row.cold)} | ${ratio(ours?.warm ?? 0, row.warm)} |`,
  );
}
console.log(
  `compact form: ${(compact.length / 1024).toFixed(0)} KiB; construction (49,408 tokens): median ${constructions[5]?.toFixed(1)} ms, min ${constructions[0]?.toFixed(1)} ms`,
);
