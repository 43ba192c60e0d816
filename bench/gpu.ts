// npm run bench:gpu [-- --model models/standin-vit-b-32] — the GPU tier against its own limits, side by side in one
// run on this machine (issue 15 §2). Not a test: it prints tables of images/s and their ratios.
//   · ceilings: exact preprocessing alone (P) and the bare ONNX Runtime session on preprocessed tensors (I); where
//     both share the cores, as here, the work-conserving ceiling is 1/(1/P + 1/I); on a GPU host it is min(P, I);
//   · the HTTP service (a real process, signed requests) at 1/4/16/64 concurrent single-image clients;
//   · Transformers.js in-process on the same folder and precision, at its best batch size;
//   · sweeps: batch size, ORT threads and spinning, PREPROCESS_THREADS, the text encoder, fp16/int8 against fp32;
//   · for phone photos (1–12 MP) and for the SDK's small uploads (short side 448 px).
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { type Precision, readModelFolder } from "../gpu-service/model/index.ts";
import {
  agreement,
  cpuMsPerImage,
  inferenceRate,
  preprocessedPixels,
  preprocessingRate,
  type SessionChoice,
  textRate,
  withModel,
} from "./support/gpu/ceilings.ts";
import { measureService } from "./support/gpu/service-load.ts";
import { measureTransformersJs } from "./support/gpu/transformers-js.ts";
import { PHONE_MEGAPIXELS, phonePhotos, photosOf, sdkUploads } from "./support/gpu/workloads.ts";
import { describeMachine } from "./support/machine.ts";

const { values } = parseArgs({
  options: {
    model: { type: "string", default: process.env.MODEL_DIR ?? "models/tiny-clip" },
    images: { type: "string", default: "24" },
    seconds: { type: "string", default: "6" },
  },
});
const modelDir = resolve(values.model as string);
const seconds = Number(values.seconds);
const cores = availableParallelism();
const cpu = describeMachine();
const folder = await readModelFolder(modelDir);
const embedded = folder.id === "clip-edge/tiny-clip";
const config = folder.preprocess;
const log = (line: string) => console.error(line);
const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : "—");

log(`bench:gpu — ${folder.id} (${folder.embeddingDim}-d) on ${cpu}; rendering images…`);
const phone = await phonePhotos(Number(values.images));
const sdk = await sdkUploads(Number(values.images));
const workloads = [phone, sdk];

// 1. Exact preprocessing: CPU per image by upload size (one at a time), then the ceiling P with the pool.
const perSize: { name: string; cpuMs: number }[] = [];
for (const megapixels of PHONE_MEGAPIXELS) {
  const set = await photosOf(megapixels, 4);
  perSize.push({ name: set.name, cpuMs: await cpuMsPerImage(set.images, config, 3) });
}
perSize.push({
  name: "448 px short side (SDK)",
  cpuMs: await cpuMsPerImage(sdk.images.slice(0, 8), config, 3),
});
log(`preprocessing CPU ms/image: ${perSize.map((s) => `${s.name} ${fmt(s.cpuMs)}`).join(", ")}`);

const defaultThreads = Math.min(Math.max(2, cores - 1), 16); // the service's PREPROCESS_THREADS default
const threadChoices = [...new Set([0, 1, defaultThreads, cores + 1])];
const preprocessing = new Map<string, Map<number, number>>();
for (const workload of workloads) {
  const byThreads = new Map<number, number>();
  for (const threads of workload === phone ? threadChoices : [defaultThreads]) {
    byThreads.set(threads, await preprocessingRate(workload.images, config, threads, seconds));
    log(
      `preprocessing ${workload.name}, PREPROCESS_THREADS=${threads}: ${fmt(byThreads.get(threads) as number)} images/s`,
    );
  }
  preprocessing.set(workload.name, byThreads);
}
const P = (name: string) => preprocessing.get(name)?.get(defaultThreads) ?? Number.NaN;

// 2. The bare session: batch sweep at the service's defaults, then threads and spinning at the best batch.
const sample = phone.images.slice(0, 16);
const pixels = await preprocessedPixels(sample, config);
const serviceDefaults: SessionChoice = { providers: ["cpu"], spinIntraOpThreads: false };
const batchSweep = new Map<number, number>();
const textSweep = new Map<number, number>();
let fp32Embeddings: Float32Array = new Float32Array();
await withModel(modelDir, serviceDefaults, async (model) => {
  for (const batch of [1, 4, 8, 16, 32, 64]) {
    batchSweep.set(batch, await inferenceRate(model, pixels, batch, seconds));
    log(`bare session, batch ${batch}: ${fmt(batchSweep.get(batch) as number)} images/s`);
  }
  for (const batch of [1, 16, 64, 256]) {
    textSweep.set(batch, await textRate(model, modelDir, batch, seconds));
    log(`text encoder, batch ${batch}: ${fmt(textSweep.get(batch) as number)} texts/s`);
  }
  fp32Embeddings = await model.embedImages(pixels, sample.length);
});
const [bestBatch, firstI] = [...batchSweep].reduce((a, b) => (b[1] > a[1] ? b : a));
/** The inference ceiling: the best of every measurement of the service's own session settings (the machine is shared). */
let I = firstI;

const threadVariants: { name: string; choice: SessionChoice }[] = [
  { name: "intra-op 1", choice: { ...serviceDefaults, intraOpThreads: 1 } },
  { name: `intra-op ${cores} (ORT's default: one per core)`, choice: serviceDefaults },
  {
    name: `intra-op ${cores}, spinning on (ORT's default)`,
    choice: { ...serviceDefaults, spinIntraOpThreads: true },
  },
  {
    name: `intra-op ${cores}, inter-op 2 (parallel mode)`,
    choice: { ...serviceDefaults, interOpThreads: 2 },
  },
];
const threadSweep: { name: string; rate: number }[] = [];
for (const variant of threadVariants) {
  const rate = await withModel(modelDir, variant.choice, (model) =>
    inferenceRate(model, pixels, bestBatch, seconds),
  );
  threadSweep.push({ name: variant.name, rate });
  if (variant.choice === serviceDefaults) I = Math.max(I, rate);
  log(`bare session, batch ${bestBatch}, ${variant.name}: ${fmt(rate)} images/s`);
}

// 3. Precisions: the same folder's fp16 and int8 encoders, when the folder has them.
const precisions: { precision: Precision; rate: number; mean: number; min: number }[] = [];
for (const precision of ["fp16", "quantized"] as const) {
  if (!existsSync(join(modelDir, "onnx", `vision_model_${precision}.onnx`))) continue;
  const row = await withModel(modelDir, { ...serviceDefaults, precision }, async (model) => {
    const rate = await inferenceRate(model, pixels, bestBatch, seconds);
    const { mean, min } = agreement(
      await model.embedImages(pixels, sample.length),
      fp32Embeddings,
      folder.embeddingDim,
    );
    return { precision, rate, mean, min };
  });
  precisions.push(row);
  log(`bare session ${precision}: ${fmt(row.rate)} images/s, cosine to fp32 mean ${fmt(row.mean, 5)}`);
}

// 4. Transformers.js on the same folder and precision: a batch sweep now, its best batch again after the service
// (the machine is shared; the higher of the two is kept, which can only flatter Transformers.js).
const tjs = await measureTransformersJs(modelDir, "fp32", workloads, [1, 8, 16], seconds);
for (const [workload, run] of tjs)
  log(`Transformers.js ${workload.name}: best ${fmt(run.best.rate)} images/s at batch ${run.best.batch}`);

// 5. The HTTP service at its defaults; then PREPROCESS_THREADS and spinning at 64 clients.
const serviceEnv = { MODEL_DIR: modelDir, BATCH_SIZES: "1,2,4,8,16,32,64" };
const service = await measureService(
  serviceEnv,
  workloads.map((workload) => ({ workload, concurrencies: [1, 4, 16, 64] })),
  seconds,
);
for (const [workload, run] of service)
  for (const r of run.results)
    log(
      `service ${workload.name}, ${r.concurrency} clients: ${fmt(r.rate)} images/s, ${fmt(r.cores, 2)} cores busy`,
    );
const serviceVariants: { name: string; env: Record<string, string>; rate: number; cores: number }[] = [];
for (const [name, env] of [
  ...[1, cores + 1]
    .filter((t) => t !== defaultThreads)
    .map((t) => [`PREPROCESS_THREADS=${t}`, { PREPROCESS_THREADS: String(t) }] as const),
  ["ORT_SPIN=on", { ORT_SPIN: "on" }] as const,
  ["INFERENCE_THREAD=off (sessions on the event loop)", { INFERENCE_THREAD: "off" }] as const,
  ...(bestBatch < 64
    ? [
        [
          `BATCH_SIZES up to ${bestBatch} (the bare session's best)`,
          { BATCH_SIZES: [1, 2, 4, 8, 16, 32, 64].filter((b) => b <= bestBatch).join(",") },
        ] as const,
      ]
    : []),
]) {
  const run = (
    await measureService({ ...serviceEnv, ...env }, [{ workload: phone, concurrencies: [64] }], seconds)
  ).get(phone);
  const result = run?.results[0];
  serviceVariants.push({ name, env, rate: result?.rate ?? Number.NaN, cores: result?.cores ?? Number.NaN });
  log(`service ${phone.name}, 64 clients, ${name}: ${fmt(result?.rate ?? Number.NaN)} images/s`);
}

// The ceilings again after the service, the higher kept: a ceiling measured in a noisy moment would flatter the service.
for (const workload of workloads) {
  const byThreads = preprocessing.get(workload.name);
  const again = await preprocessingRate(workload.images, config, defaultThreads, seconds);
  if (byThreads) byThreads.set(defaultThreads, Math.max(byThreads.get(defaultThreads) ?? 0, again));
  log(`preprocessing ${workload.name} again: ${fmt(again)} images/s`);
}
I = Math.max(
  I,
  await withModel(modelDir, serviceDefaults, (model) => inferenceRate(model, pixels, bestBatch, seconds)),
);
log(`bare session again, batch ${bestBatch}: ceiling now ${fmt(I)} images/s`);
for (const workload of workloads) {
  const run = tjs.get(workload);
  if (!run) continue;
  const again = (await measureTransformersJs(modelDir, "fp32", [workload], [run.best.batch], seconds)).get(
    workload,
  );
  if (again && again.best.rate > run.best.rate) run.best = again.best;
  log(
    `Transformers.js ${workload.name} again at batch ${run.best.batch}: ${fmt(again?.best.rate ?? Number.NaN)} images/s`,
  );
}

// Tables.
const out = (line = "") => console.log(line);
const at64 = (name: string) =>
  [...service].find(([w]) => w.name === name)?.[1].results.find((r) => r.concurrency === 64);
out(
  `\nGPU-tier benchmark — ${folder.id} (${folder.embeddingDim}-d), fp32, CPU provider, ${cpu}, Node ${process.version}\n`,
);
out("Exact preprocessing, CPU per image one at a time (images/s per core = 1000 / ms):\n");
out("| upload | CPU ms/image | images/s per core |");
out("|---|---|---|");
for (const s of perSize) out(`| ${s.name} | ${fmt(s.cpuMs)} | ${fmt(1000 / s.cpuMs)} |`);
out("\nPreprocessing alone (P), images/s, by PREPROCESS_THREADS:\n");
out(`| upload | ${threadChoices.map((t) => `${t} threads`).join(" | ")} |`);
out(`|---|${threadChoices.map(() => "---").join("|")}|`);
for (const w of workloads)
  out(
    `| ${w.name} (${w.description}) | ${threadChoices.map((t) => fmt(preprocessing.get(w.name)?.get(t) ?? Number.NaN)).join(" | ")} |`,
  );
out("\nBare ONNX Runtime vision session (I) on preprocessed tensors, images/s by batch size:\n");
out(`| ${[...batchSweep.keys()].map((b) => `batch ${b}`).join(" | ")} |`);
out(`|${[...batchSweep.keys()].map(() => "---").join("|")}|`);
out(`| ${[...batchSweep.values()].map((r) => fmt(r)).join(" | ")} |`);
out(`\nThreads at batch ${bestBatch}:\n`);
out("| session threads | images/s |");
out("|---|---|");
for (const t of threadSweep) out(`| ${t.name} | ${fmt(t.rate)} |`);
out("\nText encoder, texts/s by batch size (label prompts, padded to the longest):\n");
out(`| ${[...textSweep.keys()].map((b) => `batch ${b}`).join(" | ")} |`);
out(`|${[...textSweep.keys()].map(() => "---").join("|")}|`);
out(`| ${[...textSweep.values()].map((r) => fmt(r)).join(" | ")} |`);
out(`\nPrecisions (bare session, batch ${bestBatch}):\n`);
out(`| precision | images/s | × fp32 | cosine to fp32, mean / min (${sample.length} phone photos) |`);
out("|---|---|---|---|");
out(`| fp32 | ${fmt(I)} | 1.00× | 1 |`);
for (const p of precisions)
  out(`| ${p.precision} | ${fmt(p.rate)} | ${fmt(p.rate / I, 2)}× | ${fmt(p.mean, 5)} / ${fmt(p.min, 5)} |`);
if (precisions.length === 0) out("| fp16, int8 | — | — | not in this folder |");
out("\nThe HTTP service (defaults) against the ceilings, images/s:\n");
out(
  "| upload | 1 client | 4 | 16 | 64 | cores busy at 64: service + clients | P | I | ceiling 1/(1/P+1/I) | 64 ÷ ceiling | Transformers.js (best batch) | 64 ÷ Transformers.js | ceiling ÷ Transformers.js |",
);
out("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
for (const w of workloads) {
  const run = service.get(w);
  const ceiling = 1 / (1 / P(w.name) + 1 / I);
  const best = tjs.get(w)?.best;
  const r64 = at64(w.name);
  out(
    `| ${w.name} | ${run?.results.map((r) => fmt(r.rate)).join(" | ")} | ${fmt(r64?.cores ?? Number.NaN, 2)} + ${fmt(r64?.clientCores ?? Number.NaN, 2)} of ${cores} | ${fmt(P(w.name))} | ${fmt(I)} | ${fmt(ceiling)} | ${fmt(((r64?.rate ?? Number.NaN) / ceiling) * 100, 0)}% | ${fmt(best?.rate ?? Number.NaN)} (batch ${best?.batch}) | ${fmt((r64?.rate ?? Number.NaN) / (best?.rate ?? Number.NaN), 2)}× | ${fmt(ceiling / (best?.rate ?? Number.NaN), 2)}× |`,
  );
}
out(`\nService variants, ${phone.name}, 64 clients:\n`);
out("| variant | images/s | × defaults | cores busy |");
out("|---|---|---|---|");
const base64 = at64(phone.name)?.rate ?? Number.NaN;
out(
  `| defaults (PREPROCESS_THREADS=${defaultThreads}, ORT_SPIN=off) | ${fmt(base64)} | 1.00× | ${fmt(at64(phone.name)?.cores ?? Number.NaN, 2)} |`,
);
for (const v of serviceVariants)
  out(`| ${v.name} | ${fmt(v.rate)} | ${fmt(v.rate / base64, 2)}× | ${fmt(v.cores, 2)} |`);
out(
  `\nPeak RSS of the service: ${[...service].map(([w, r]) => `${fmt(r.peakRssBytes / 2 ** 20, 0)} MiB after ${w.name}`).join(", ")}`,
);
out(
  `On a GPU host inference leaves the CPU and the ceiling is min(P, I): here P = ${fmt(P(phone.name))} images/s for phone photos on ${cores} cores.`,
);

const tjsGoal = embedded ? 2 : 1.3;
out("\n| goal | measured | |");
out("|---|---|---|");
for (const w of workloads) {
  const r64 = at64(w.name);
  const busy = (r64?.cores ?? 0) + (r64?.clientCores ?? 0);
  const ceiling = 1 / (1 / P(w.name) + 1 / I);
  const share = (r64?.rate ?? Number.NaN) / ceiling;
  const speedup = (r64?.rate ?? Number.NaN) / (tjs.get(w)?.best.rate ?? Number.NaN);
  out(
    `| ${w.name}: 64 clients ≥ 90% of the work-conserving ceiling | ${fmt(share * 100, 0)}% | ${share >= 0.9 ? "met" : "missed"} |`,
  );
  out(
    `| ${w.name}: 64 clients ≥ ${tjsGoal}× Transformers.js | ${fmt(speedup, 2)}× | ${speedup >= tjsGoal ? "met" : "missed"} |`,
  );
  out(
    `| ${w.name}: preprocessing overlaps inference (cores busy at 64 clients, service + clients) | ${fmt(busy, 2)} of ${cores} | ${busy >= 0.9 * cores ? "met" : "missed"} |`,
  );
}
