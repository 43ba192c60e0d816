// npm run bench:gpu — images/s of the GPU tier on this machine with the embedded model, side by side in one run:
//   · the HTTP service (a real process, signed requests) at several client concurrencies, single-image requests;
//   · the same service fed offline batches of 64 images;
//   · Transformers.js in-process on the same folder (its processor + CLIPVisionModelWithProjection);
//   · bare sharp decode + resize to 224 (no model): the preprocessing ceiling of this CPU.
// Images: phone-sized JPEGs (1–12 MP) rendered by the shapes world. Not a test; prints a table of ratios.
import { availableParallelism, cpus } from "node:os";
import { basename, dirname, resolve } from "node:path";
import { parseArgs } from "node:util";
import { AutoProcessor, CLIPVisionModelWithProjection, env, RawImage } from "@huggingface/transformers";
import { readModelFolder } from "../gpu-service/model/index.ts";
import { renderShapeSample } from "../shapes-world/index.ts";
import { startGpuProcess } from "../test/support/gpu-process.ts";
import { frame, signedPost } from "../test/support/gpu-service.ts";
import { naivePreprocessor } from "./support/naive-preprocess.ts";
import { throughput } from "./support/throughput.ts";

const { values } = parseArgs({
  options: {
    model: { type: "string", default: process.env.MODEL_DIR ?? "models/tiny-clip" },
    images: { type: "string", default: "48" },
    seconds: { type: "string", default: "8" },
  },
});
const modelDir = resolve(values.model as string);
process.env.TEST_MODEL_DIR = modelDir;
const seconds = Number(values.seconds);

console.error(`rendering ${values.images} phone-sized JPEGs (1–12 MP)…`);
const megapixels = [1, 2, 3, 5, 8, 12];
const images = await Promise.all(
  Array.from({ length: Number(values.images) }, async (_, i) => {
    const sample = await renderShapeSample(0xbe7c_0001, i, {
      pairs: "all",
      megapixels: megapixels[i % megapixels.length],
      format: "jpeg",
    });
    return sample.bytes;
  }),
);
const averageMegapixels = megapixels.reduce((a, b) => a + b, 0) / megapixels.length;

const rows: { name: string; rate: number }[] = [];
const record = (name: string, rate: number) => {
  rows.push({ name, rate });
  console.error(`${name}: ${rate.toFixed(1)} images/s`);
};

// 1. Bare sharp, as many in flight as libuv's thread pool takes.
const folder = await readModelFolder(modelDir);
const naive = naivePreprocessor(folder.preprocess);
record(
  "bare sharp decode+resize (ceiling)",
  await throughput(seconds, 8, 1, (i) => naive(images[i % images.length] as Uint8Array)),
);

// 2. The HTTP service, resampling on worker threads (the default) and on the event-loop thread, side by side.
for (const [mode, threads] of [
  ["worker pool", undefined],
  ["event-loop thread", "0"],
] as const) {
  const gpu = await startGpuProcess({
    BATCH_SIZES: "1,2,4,8,16,32,64",
    ...(threads ? { PREPROCESS_THREADS: threads } : {}),
  });
  const single = (i: number) =>
    signedPost(
      `${gpu.url}/v1/embed/images`,
      frame({ kind: "images", dtype: "f16", images: [images[i % images.length] as Uint8Array] }),
    ).then((r) => r.arrayBuffer());
  const batch64 = (i: number) =>
    signedPost(
      `${gpu.url}/v1/embed/images`,
      frame({
        kind: "images",
        dtype: "f16",
        images: Array.from({ length: 64 }, (_, k) => images[(i * 64 + k) % images.length] as Uint8Array),
      }),
    ).then((r) => r.arrayBuffer());
  await throughput(seconds, 4, 1, single); // warm the process's JIT and caches outside the measurement
  for (const concurrency of [1, 4, 16, 64])
    record(
      `HTTP service (${mode}), ${concurrency} concurrent single-image clients`,
      await throughput(seconds, concurrency, 1, single),
    );
  record(
    `HTTP service (${mode}), offline batches of 64 (2 in flight)`,
    await throughput(seconds, 2, 64, batch64),
  );
  await gpu.stop();
}

// 3. Transformers.js in-process, same folder, batches of 16 (its best on this CPU).
env.allowRemoteModels = false;
env.localModelPath = `${dirname(modelDir)}/`;
const processor = await AutoProcessor.from_pretrained(basename(modelDir));
const vision = await CLIPVisionModelWithProjection.from_pretrained(basename(modelDir), { dtype: "fp32" });
const tjs = async (i: number) => {
  const batch = await Promise.all(
    Array.from({ length: 16 }, (_, k) =>
      RawImage.fromBlob(new Blob([images[(i * 16 + k) % images.length] as Uint8Array<ArrayBuffer>])),
    ),
  );
  await vision(await processor(batch));
};
await tjs(0);
record("Transformers.js in-process (batches of 16)", await throughput(seconds, 1, 16, tjs));

const rate = (name: string) => rows.find((r) => r.name.startsWith(name))?.rate ?? Number.NaN;
const best = Math.max(...rows.filter((r) => r.name.startsWith("HTTP service")).map((r) => r.rate));
console.log(
  `\nGPU-tier benchmark — ${images.length} JPEGs averaging ${averageMegapixels.toFixed(1)} MP, ${cpus()[0]?.model ?? "?"}, ${availableParallelism()} cores, ${folder.id}, CPU provider\n`,
);
console.log("| path | images/s |");
console.log("|---|---|");
for (const row of rows) console.log(`| ${row.name} | ${row.rate.toFixed(1)} |`);
console.log(`
| goal | measured |
|---|---|
| HTTP service (best) ≥ 3× Transformers.js | ${(best / rate("Transformers.js")).toFixed(2)}× |
| HTTP service (best) ≥ 85% of bare sharp | ${((best / rate("bare sharp")) * 100).toFixed(0)}% |
| 64 concurrent single-image clients ≥ 85% of offline batches of 64 (worker pool) | ${((rate("HTTP service (worker pool), 64 concurrent") / rate("HTTP service (worker pool), offline")) * 100).toFixed(0)}% |
| 64 concurrent single-image clients ≥ 85% of offline batches of 64 (event-loop thread) | ${((rate("HTTP service (event-loop thread), 64 concurrent") / rate("HTTP service (event-loop thread), offline")) * 100).toFixed(0)}% |`);
