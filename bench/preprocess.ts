/**
 * ms/image for phone-sized JPEGs: a naive sharp pipeline vs ours, side by side in one run (the machine is
 * shared, so only the ratio within a run means much), plus each one's MAE against our exact path (which
 * reproduces the PIL reference bit for bit on all goldens). Then our resampler's inner loops, the JavaScript
 * reference vs WebAssembly, on the sizes each path hands them, and whole images with each (bench/support/resampler.ts).
 *
 *   npx node bench/preprocess.ts [--rounds 7] [--source path/to/photo.jpg] [--only resampler]
 *
 * Not a test: it prints and exits 0.
 */
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import sharp from "sharp";
import { readPreprocessConfig } from "../gpu-service/image/config.ts";
import { preprocessImage } from "../gpu-service/image/pipeline.ts";
import { createPreprocessPool } from "../gpu-service/image/pool.ts";
import { naivePreprocessor } from "./support/naive-preprocess.ts";
import { resamplerBench } from "./support/resampler.ts";

const { values } = parseArgs({
  options: { rounds: { type: "string", default: "7" }, source: { type: "string" }, only: { type: "string" } },
});
const rounds = Number(values.rounds);
if (values.only === "resampler") {
  await resamplerBench(rounds);
  process.exit(0);
}
const root = path.resolve(import.meta.dirname, "..");
const config = readPreprocessConfig(
  JSON.parse(fs.readFileSync(path.join(root, "gpu-service/image/defaults/preprocessor_config.json"), "utf8")),
);
const naive = naivePreprocessor(config);

async function ours(bytes: Uint8Array): Promise<Float32Array> {
  const r = await preprocessImage(bytes, config);
  if (!r.ok) throw new Error(r.message);
  return r.pixels;
}

function mae(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs((a[i] as number) - (b[i] as number));
  return s / a.length;
}

/** Photo-like detail when no source photo is around: blurred noise over a gradient. */
async function syntheticSource(): Promise<Buffer> {
  const w = 4032;
  const h = 3024;
  const noise = Buffer.alloc(w * h * 3);
  for (let i = 0; i < noise.length; i++) noise[i] = (Math.random() * 256) | 0;
  return sharp(noise, { raw: { width: w, height: h, channels: 3 } })
    .blur(1.5)
    .jpeg({ quality: 95 })
    .toBuffer();
}

const goldenDir = path.join(root, "../shared/clip/preprocess");
if (fs.existsSync(goldenDir)) {
  console.log("MAE against the goldens (bound 0.01)\ncase                   naive     ours  our path");
  for (const file of fs.readdirSync(goldenDir).filter((f) => !f.endsWith(".f32") && !f.endsWith(".json"))) {
    const bytes = fs.readFileSync(path.join(goldenDir, file));
    const ref = new Float32Array(new Uint8Array(fs.readFileSync(path.join(goldenDir, `${file}.f32`))).buffer);
    const r = await preprocessImage(bytes, config);
    if (!r.ok) throw new Error(r.message);
    console.log(
      `${file.padEnd(20)} ${mae(await naive(bytes), ref)
        .toFixed(4)
        .padStart(7)}  ${mae(r.pixels, ref).toFixed(4).padStart(7)}  ${r.info.path}`,
    );
  }
}
const golden = path.join(goldenDir, "large-photo.jpg");
const sources: [string, Buffer][] = [];
if (values.source) sources.push([path.basename(values.source), fs.readFileSync(values.source)]);
else if (fs.existsSync(golden)) sources.push(["stripes (golden large-photo)", fs.readFileSync(golden)]);
sources.push(["blurred noise (synthetic)", await syntheticSource()]);

const sizes: [string, number, number][] = [
  ["1 MP", 1152, 864],
  ["3 MP", 2048, 1536],
  ["5 MP", 2592, 1944],
  ["8 MP", 3264, 2448],
  ["12 MP", 4032, 3024],
  ["12 MP portrait", 3024, 4032],
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1] as number;
}

console.log(
  `rounds=${rounds}, libuv threadpool=${process.env.UV_THREADPOOL_SIZE ?? 4}, cores=${(await import("node:os")).availableParallelism()}`,
);
for (const [name, src] of sources) {
  console.log(`\nsource: ${name}`);
  console.log(
    "size            naive ms   ours ms   ratio   our path          MAE naive  MAE ours (vs PIL-exact)",
  );
  for (const [label, w, h] of sizes) {
    const bytes = await sharp(src).resize(w, h, { fit: "fill" }).jpeg({ quality: 90 }).toBuffer();
    const exact = await preprocessImage(bytes, config, undefined, { exact: true });
    if (!exact.ok) throw new Error(exact.message);
    const probe = await preprocessImage(bytes, config);
    if (!probe.ok) throw new Error(probe.message);
    const tn: number[] = [];
    const to: number[] = [];
    let pn: Float32Array = new Float32Array();
    let po: Float32Array = new Float32Array();
    for (let r = 0; r < rounds; r++) {
      // Alternate the order so neither side always runs on a warmer cache.
      for (const which of r % 2 ? ["ours", "naive"] : ["naive", "ours"]) {
        const t = performance.now();
        if (which === "naive") pn = await naive(bytes);
        else po = await ours(bytes);
        (which === "naive" ? tn : to).push(performance.now() - t);
      }
    }
    const n = median(tn);
    const o = median(to);
    const how = probe.info.path === "shrink-on-load" ? `1/${probe.info.decodeScale} decode` : probe.info.path;
    console.log(
      `${label.padEnd(15)} ${n.toFixed(1).padStart(8)} ${o.toFixed(1).padStart(9)} ${(o / n).toFixed(2).padStart(6)}x   ` +
        `${`${how} ${probe.info.decoded.width}x${probe.info.decoded.height}`.padEnd(17)} ${mae(pn, exact.pixels).toFixed(4).padStart(9)}  ${mae(po, exact.pixels).toFixed(4).padStart(8)}`,
    );
  }
}

// Throughput: a batch of 12 MP photos at once, as a server sees them. sharp spreads decodes over libuv's
// threadpool either way; the pool also moves our resampler off the main thread.
{
  const batch = await Promise.all(
    [0, 1, 2, 3, 4, 5, 6, 7].map((i) =>
      sharp(sources[i % sources.length]?.[1])
        .resize(4032, 3024, { fit: "fill" })
        .jpeg({ quality: 90 })
        .toBuffer(),
    ),
  );
  const pool = createPreprocessPool({ threads: 2 });
  const runs: [string, () => Promise<unknown>][] = [
    ["naive", () => Promise.all(batch.map(naive))],
    ["ours (main thread)", () => Promise.all(batch.map(ours))],
    ["ours (pool of 2 workers)", () => Promise.all(batch.map((b) => pool.preprocessImage(b, config)))],
  ];
  for (const [, fn] of runs) await fn();
  console.log(`\nthroughput, batches of ${batch.length} x 12 MP JPEG (median of ${rounds})`);
  const times = new Map<string, number[]>();
  for (let r = 0; r < rounds; r++) {
    for (const [name, fn] of runs) {
      const t = performance.now();
      await fn();
      times.set(name, [...(times.get(name) ?? []), performance.now() - t]);
    }
  }
  for (const [name, ts] of times) {
    const m = median(ts);
    console.log(
      `${name.padEnd(26)} ${(m / batch.length).toFixed(1).padStart(6)} ms/image  ${((1000 * batch.length) / m).toFixed(1).padStart(5)} images/s`,
    );
  }
  await pool.close();
}

await resamplerBench(rounds);
