/**
 * Caption search speed on a synthetic bank (random unit rows): ONNX Runtime (the service's search session) against a
 * plain JavaScript loop over the same rows in float32, for one query and for a batch of 16.
 *
 * Usage: node bench/captions.ts [--count 1000000] [--dim 512] [--runs 5] [--dir DIR] [--threads N]
 * The bank is written to DIR (default: a temporary folder, deleted afterwards) unless DIR already holds one.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { BankSearchSession, CaptionBankWriter, openCaptionBank } from "../gpu-service/captions/index.ts";
import { float16ToFloat32, matrixVectorProduct, normalizeRows, topK } from "../src/vector/index.ts";

const { values } = parseArgs({
  options: {
    count: { type: "string", default: "1000000" },
    dim: { type: "string", default: "512" },
    runs: { type: "string", default: "5" },
    dir: { type: "string" },
    threads: { type: "string" },
  },
});
const count = Number(values.count);
const dim = Number(values.dim);
const runs = Number(values.runs);
const K = 10;
const gb = (bytes: number) => `${(bytes / 1e9).toFixed(2)} GB`;
const rss = () => gb(process.memoryUsage().rss);

const dir = values.dir ?? (await mkdtemp(join(tmpdir(), "bench-captions-")));
let opened = await openCaptionBank(dir);
if (!opened.ok) {
  const started = performance.now();
  const writer = await CaptionBankWriter.create(dir, {
    dim,
    model: { id: "synthetic", tokenizerSha256: "-", textEncoder: { precision: "fp32", sha256: "-" } },
  });
  const slice = 50_000;
  let state = 12345;
  for (let start = 0; start < count; start += slice) {
    const rows = Math.min(slice, count - start);
    const values = new Float32Array(rows * dim);
    for (let i = 0; i < values.length; i++) {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      values[i] = (state >>> 0) / 2 ** 32 - 0.5;
    }
    const texts = Array.from({ length: rows }, (_, i) => `synthetic caption ${start + i}`);
    await writer.append(texts, normalizeRows(values, dim));
  }
  await writer.commit();
  console.log(
    `wrote a ${count} × ${dim} bank in ${((performance.now() - started) / 1000).toFixed(1)} s to ${dir}`,
  );
  opened = await openCaptionBank(dir);
  if (!opened.ok) throw new Error(opened.message);
}
const { bank } = opened;

let started = performance.now();
const session = await BankSearchSession.create(
  { kind: "file", dir: bank.dir, count: bank.count, dim: bank.dim },
  { providers: ["cpu"], intraOpThreads: values.threads ? Number(values.threads) : undefined },
);
console.log(
  `search session (${session.compute} on [${session.providers}]): ready in ${((performance.now() - started) / 1000).toFixed(1)} s, rss ${rss()}`,
);

const queries = normalizeRows(
  Float32Array.from({ length: 16 * dim }, () => Math.random() - 0.5),
  dim,
);
const median = (times: number[]) => times.sort((a, b) => a - b)[Math.floor(times.length / 2)] as number;
const time = async (fn: () => unknown | Promise<unknown>, repeat: number) => {
  await fn(); // first run: ORT allocations, page faults
  const times: number[] = [];
  for (let i = 0; i < repeat; i++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  return median(times);
};

const onnx: Record<number, number> = {};
for (const q of [1, 16]) onnx[q] = await time(() => session.search(queries, q, K), runs);
console.log(`onnx: rss ${rss()}`);
await session.release();

// The baseline: the bank widened to float32 in memory, scored row by row, top-k with a heap.
started = performance.now();
const { readFile } = await import("node:fs/promises");
const bytes = await readFile(bank.embeddingsPath);
const matrix = float16ToFloat32(new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2));
console.log(
  `js: bank widened to float32 in ${((performance.now() - started) / 1000).toFixed(1)} s, rss ${rss()}`,
);
const js: Record<number, number> = {};
const jsSearch = (q: number) => {
  for (let i = 0; i < q; i++)
    topK(matrixVectorProduct(matrix, dim, queries.subarray(i * dim, (i + 1) * dim)), K);
};
js[1] = await time(() => jsSearch(1), Math.min(runs, 3));
js[16] = await time(() => jsSearch(16), 1);

console.log(
  `\n${bank.count.toLocaleString("en-US")} × ${bank.dim} captions, top-${K}, median of ${runs} runs:`,
);
console.log("queries | onnx ms | onnx ms/query | js ms   | js ms/query | js ÷ onnx");
for (const q of [1, 16]) {
  const o = onnx[q] as number;
  const j = js[q] as number;
  console.log(
    `${String(q).padStart(7)} | ${o.toFixed(0).padStart(7)} | ${(o / q).toFixed(1).padStart(13)} | ${j.toFixed(0).padStart(7)} | ${(j / q).toFixed(1).padStart(11)} | ${(j / o).toFixed(1).padStart(8)}×`,
  );
}
if (!values.dir) await rm(dir, { recursive: true, force: true });
