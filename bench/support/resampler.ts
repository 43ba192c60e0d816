/**
 * Our resampler's inner loops, the JavaScript reference vs WebAssembly, side by side in one process (runs
 * alternate, medians compared: the machine is shared, so the ratio is what means something). First the bare
 * resample calls of each path at the sizes a phone photo hands them, then whole images through
 * `preprocessImageInto`, where decoding is the same work either way.
 */
import fs from "node:fs";
import path from "node:path";
import { readPreprocessConfig } from "../../gpu-service/image/config.ts";
import type { Probe } from "../../gpu-service/image/decode.ts";
import { cropWindow, resizedSize, type Size } from "../../gpu-service/image/geometry.ts";
import { type ResamplerName, resampleKernels } from "../../gpu-service/image/kernels/index.ts";
import { preprocessImageInto } from "../../gpu-service/image/pipeline.ts";
import { planReduce, resampleReduced } from "../../gpu-service/image/reduce.ts";
import { PIL_FILTERS, resampleExact } from "../../gpu-service/image/resample.ts";
import { renderShapeSample } from "../../shapes-world/index.ts";

const root = path.resolve(import.meta.dirname, "../..");
const config = readPreprocessConfig(
  JSON.parse(fs.readFileSync(path.join(root, "gpu-service/image/defaults/preprocessor_config.json"), "utf8")),
);
const NAMES: ResamplerName[] = ["js", "wasm"];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1] as number;
}

/** Times `run(name)` for both resamplers, alternating which goes first; medians by name. */
async function sideBySide(
  rounds: number,
  run: (name: ResamplerName) => unknown,
): Promise<Record<ResamplerName, number>> {
  const times: Record<ResamplerName, number[]> = { js: [], wasm: [] };
  for (const name of NAMES) await run(name); // warm-up: JIT, and the wasm instance's first compile
  for (let r = 0; r < rounds; r++) {
    for (const name of r % 2 ? [...NAMES].reverse() : NAMES) {
      const t = performance.now();
      await run(name);
      times[name].push(performance.now() - t);
    }
  }
  return { js: median(times.js), wasm: median(times.wasm) };
}

function randomRgb(size: Size): Uint8Array {
  const out = new Uint8Array(size.width * size.height * 3);
  for (let i = 0; i < out.length; i++) out[i] = (Math.random() * 256) | 0;
  return out;
}

function probeOf(format: Probe["format"], stored: Size): Probe {
  const chromaSubsampling = format === "jpeg" ? "4:2:0" : undefined;
  return {
    format,
    hasAlpha: false,
    stored,
    orientation: 1,
    channels: 3,
    space: "srgb",
    depth: "uchar",
    chromaSubsampling,
  };
}

interface KernelCase {
  label: string;
  run(name: ResamplerName): unknown;
}

/** The exact path on a decoded `source`, or a fast path on what libvips hands our resampler for it. */
function kernelCase(label: string, format: Probe["format"], source: Size, exact: boolean): KernelCase {
  const resized = resizedSize(source, config);
  const crop = cropWindow(resized, config);
  const header = probeOf(format, source);
  const plan = exact ? null : planReduce(header, source, resized, config);
  if (!plan) {
    const src = randomRgb(source);
    const { width: w, height: h } = source;
    const desc = `${label} ${w}x${h} → ${resized.width}x${resized.height}, exact`;
    return {
      label: desc,
      run: (name) =>
        resampleExact(src, w, h, resized.width, resized.height, crop, PIL_FILTERS[3], resampleKernels(name)),
    };
  }
  const decoded = { ...plan.decode.target, data: randomRgb(plan.decode.target) };
  const how = plan.k === 1 ? "pre-reduced" : `shrink-on-load 1/${plan.k}`;
  return {
    label: `${label} ${decoded.width}x${decoded.height} → ${resized.width}x${resized.height}, ${how}`,
    run: (name) => resampleReduced(decoded, header, resized, crop, plan, resampleKernels(name)),
  };
}

export async function resamplerBench(rounds: number): Promise<void> {
  const kernelRounds = Math.max(rounds, 15);
  console.log(
    `\nresampler inner loops: JS reference vs WebAssembly (${resampleKernels().name}), median of ${kernelRounds}`,
  );
  console.log("case                                                     js ms   wasm ms   speed-up");
  for (const c of [
    kernelCase("1 MP", "jpeg", { width: 1152, height: 864 }, true),
    kernelCase("0.7 MP", "png", { width: 1008, height: 672 }, true),
    kernelCase("3 MP PNG", "png", { width: 2016, height: 1344 }, false),
    kernelCase("12 MP JPEG", "jpeg", { width: 4032, height: 3024 }, false),
  ]) {
    const t = await sideBySide(kernelRounds, c.run);
    console.log(
      `${c.label.padEnd(54)} ${t.js.toFixed(2).padStart(7)} ${t.wasm.toFixed(2).padStart(9)} ${(t.js / t.wasm).toFixed(1).padStart(9)}x`,
    );
  }

  console.log(
    `\npreprocessImageInto per image (shapes-world JPEGs), resampler js vs wasm, median of ${rounds}`,
  );
  console.log(
    "image                          path              total js  total wasm   resample js  resample wasm",
  );
  const out = new Float32Array(3 * config.outputWidth * config.outputHeight);
  for (const megapixels of [1, 3, 8, 12]) {
    const { bytes } = await renderShapeSample(0x5e5a_3b1e, megapixels, { megapixels, format: "jpeg" });
    const stage: Record<ResamplerName, number[]> = { js: [], wasm: [] };
    let info = "";
    const t = await sideBySide(rounds, async (name) => {
      const r = await preprocessImageInto(bytes, config, out, 0, undefined, { resampler: name });
      if (!r.ok) throw new Error(r.message);
      stage[name].push(r.info.timingsMs.resample);
      info = `${r.info.path} ${r.info.decoded.width}x${r.info.decoded.height}`;
    });
    console.log(
      `${`${megapixels} MP JPEG (${bytes.length >> 10} KiB)`.padEnd(30)} ${info.padEnd(24)} ${t.js.toFixed(1).padStart(6)} ${t.wasm
        .toFixed(1)
        .padStart(
          10,
        )} ${median(stage.js).toFixed(2).padStart(12)} ${median(stage.wasm).toFixed(2).padStart(13)}`,
    );
  }
}
