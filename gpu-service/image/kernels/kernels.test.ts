/**
 * The WebAssembly kernels against the JavaScript reference, byte for byte: random sizes, shrink and enlarge factors,
 * crop windows reaching past the image, every PIL filter, random and extreme pixels; then the float passes of the
 * pre-reduced paths, and the whole pipeline on the shared goldens with each resampler.
 */
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { sharedDataPresent } from "../../../test/support/shared-data.ts";
import { fixtureConfig, GOLDEN_DIR, rng } from "../../../test/support/test-images.ts";
import type { PilResample } from "../config.ts";
import type { Probe } from "../decode.ts";
import { type CropWindow, cropWindow, resizedSize } from "../geometry.ts";
import { preprocessImage } from "../pipeline.ts";
import { resampleReduced } from "../reduce.ts";
import { computeTaps, PIL_FILTERS, resampleExact } from "../resample.ts";
import { type FloatJob, jsKernels, placeRows, resampleKernels } from "./index.ts";
import { wasmKernels } from "./wasm.ts";

const wasm = resampleKernels("wasm");
const config = fixtureConfig();

/** Random bytes, or (one case in four) only 0 and 255 in blocks: overshoot that Pillow's clipping must catch. */
function pixels(w: number, h: number, r: () => number): Uint8Array {
  const out = new Uint8Array(w * h * 3);
  const harsh = r() < 0.25;
  const block = 1 + Math.floor(r() * 4);
  for (let i = 0; i < out.length; i++) {
    const p = Math.floor(i / 3);
    out[i] = harsh
      ? ((Math.floor((p % w) / block) + Math.floor(p / w / block)) % 2) * 255
      : Math.floor(r() * 256);
  }
  return out;
}

const int = (r: () => number, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));

/** An output size for one axis: a shrink of 1.2–20×, an enlargement up to 4×, or (sometimes) the same size. */
function outSize(n: number, r: () => number): number {
  const u = r();
  if (u < 0.1) return n;
  const factor = u < 0.3 ? 0.25 + r() * 0.75 : 1.2 + r() * 18.8;
  return Math.max(1, Math.round(n / factor));
}

/** A window of the resized image, sometimes reaching past any of its edges (zero padding) or missing it entirely. */
function window(w: number, h: number, r: () => number): CropWindow {
  const width = int(r, 1, w + 8);
  const height = int(r, 1, h + 8);
  return { left: int(r, -6, w - width + 6), top: int(r, -6, h - height + 6), width, height };
}

describe("resampleKernels", () => {
  it("runs the WebAssembly kernels on this runtime (Node 24 has wasm SIMD)", () => {
    expect(wasm.name).toBe("wasm");
    expect(resampleKernels("js")).toBe(jsKernels);
  });

  it("falls back to nothing, so callers use the JS kernels, when the module does not validate", () => {
    expect(wasmKernels(Uint8Array.of(0, 0x61, 0x73, 0x6d, 2, 0, 0, 0))).toBeNull();
  });
});

describe("resampleExact: WebAssembly equals the JavaScript reference byte for byte", () => {
  const r = rng(20240611);
  const cases = Array.from({ length: 400 }, (_, i) => {
    const big = i % 25 === 0; // several copy strips, and rows longer than a strip
    const w = big ? int(r, 600, 3000) : int(r, 1, 160);
    const h = big ? int(r, 100, 700) : int(r, 1, 160);
    const ow = outSize(w, r);
    const oh = outSize(h, r);
    const filter = int(r, 1, 5) as PilResample;
    return { w, h, ow, oh, win: window(ow, oh, r), filter, seed: i + 1 };
  });
  cases.push({ w: 70_000, h: 3, ow: 224, oh: 1, win: window(224, 1, r), filter: 3, seed: 0 }); // a row > a strip

  it.each(cases.map((c) => [`${c.w}x${c.h} → ${c.ow}x${c.oh}, filter ${c.filter}`, c] as const))(
    "%s",
    (_name, c) => {
      const src = pixels(c.w, c.h, rng(c.seed));
      const filter = PIL_FILTERS[c.filter];
      const reference = resampleExact(src, c.w, c.h, c.ow, c.oh, c.win, filter, jsKernels);
      const ours = resampleExact(src, c.w, c.h, c.ow, c.oh, c.win, filter, wasm);
      expect(Buffer.from(ours).equals(Buffer.from(reference))).toBe(true);
    },
  );
});

/** The float passes as reduce.ts runs them: Pillow's bicubic over a box that may start or end between pixels. */
function floatJob(r: () => number, seed: number): { job: FloatJob; cols: number } {
  const w = int(r, 4, 700);
  const h = int(r, 4, 500);
  const ow = Math.max(1, Math.round(w / (1.2 + r() * 6)));
  const oh = Math.max(1, Math.round(h / (1.2 + r() * 6)));
  // The shrink-on-load box: the full image reaching a little past the decoded pixels, at either end.
  const past = r() * 0.02;
  const box = (n: number) => (r() < 0.5 ? [0, n * (1 + past)] : [-n * past, n]) as [number, number];
  const [x0, x1] = box(w);
  const [y0, y1] = box(h);
  const x = int(r, 0, ow - 1);
  const y = int(r, 0, oh - 1);
  const cols = int(r, 1, ow - x);
  const rows = int(r, 1, oh - y);
  const horizontal = computeTaps(w, x0, x1, ow, x, cols, PIL_FILTERS[3]);
  const vertical = computeTaps(h, y0, y1, oh, y, rows, PIL_FILTERS[3]);
  const rowFirst = vertical.first[0] as number;
  const rowEnd = (vertical.first[rows - 1] as number) + (vertical.count[rows - 1] as number);
  const src = pixels(w, h, rng(seed));
  return { job: { src, srcW: w, rowFirst, rows: rowEnd - rowFirst, horizontal, vertical }, cols };
}

function floatBytes(kernels: typeof wasm, job: FloatJob, cols: number): Buffer {
  const rows = job.vertical.first.length;
  const out = new Float32Array(rows * cols * 3);
  placeRows(kernels.float(job), rows, cols * 3, out, 0, cols * 3);
  return Buffer.from(out.buffer);
}

describe("float passes (pre-reduced paths): WebAssembly equals the JavaScript reference bit for bit", () => {
  it("on 150 random jobs, each after memory was left full of NaN-like bytes by an 8-bit pass", () => {
    const r = rng(7);
    const white = new Uint8Array(900 * 400 * 3).fill(255);
    for (let i = 0; i < 150; i++) {
      // Leaves 0xff bytes (NaN as float64) wherever the float pass's scratch will be.
      resampleExact(
        white,
        900,
        400,
        899,
        400,
        { left: 0, top: 0, width: 899, height: 400 },
        PIL_FILTERS[1],
        wasm,
      );
      const { job, cols } = floatJob(r, i + 1);
      expect(floatBytes(wasm, job, cols).equals(floatBytes(jsKernels, job, cols))).toBe(true);
    }
  });
});

describe("finishing the pre-reduced paths (sharpening, rounding): WebAssembly equals the reference", () => {
  it("on 200 random windows, spans and strengths: the same sharpened floats, bit for bit, and bytes", () => {
    const r = rng(99);
    for (let i = 0; i < 200; i++) {
      const width = int(r, 1, 240);
      const height = int(r, 1, 240);
      const x0 = int(r, 0, width);
      const y0 = int(r, 0, height);
      const span = { x0, x1: int(r, x0, width), y0, y1: int(r, y0, height) };
      // Values past 0..255 and exact halves, where clamping and rounding decide.
      const image = Float32Array.from({ length: width * height * 3 }, () =>
        r() < 0.2 ? Math.floor(r() * 300) - 20 + 0.5 : r() * 300 - 20,
      );
      const strength = () => (r() < 0.2 ? 0 : (r() - 0.3) * 0.4);
      const job = {
        width,
        span,
        x: { luma: strength(), chroma: strength() },
        y: { luma: strength(), chroma: strength() },
      };
      const sharpened = [image.slice(), image.slice()] as const;
      const reference = jsKernels.finish({ ...job, image: sharpened[0] });
      const ours = wasm.finish({ ...job, image: sharpened[1] });
      expect(Buffer.from(ours).equals(Buffer.from(reference))).toBe(true);
      expect(Buffer.from(sharpened[1].buffer).equals(Buffer.from(sharpened[0].buffer))).toBe(true);
    }
  });
});

describe("resampleReduced: WebAssembly equals the reference byte for byte", () => {
  const r = rng(4242);
  const cases = Array.from({ length: 60 }, (_, i) => {
    const k = [1, 2, 4, 8][i % 4] as number;
    const stored = { width: int(r, 700, 2400), height: int(r, 700, 2400) };
    const orientation = int(r, 1, 8);
    const source = orientation >= 5 ? { width: stored.height, height: stored.width } : stored;
    const resized = resizedSize(source, config);
    const decoded = {
      width: Math.max(1, Math.round(source.width / (k + 1))),
      height: Math.max(1, Math.round(source.height / (k + 1))),
    };
    const chromaSubsampling = ["4:2:0", "4:4:4", "4:2:2", "4:4:0"][int(r, 0, 3)] as string;
    return { k, stored, orientation, resized, decoded, chromaSubsampling, seed: i + 1 };
  });
  it.each(
    cases.map(
      (c) =>
        [
          `${c.decoded.width}x${c.decoded.height}, 1/${c.k}, orientation ${c.orientation}, ${c.chromaSubsampling}`,
          c,
        ] as const,
    ),
  )("%s", (_name, c) => {
    const header: Probe = {
      format: "jpeg",
      hasAlpha: false,
      stored: c.stored,
      orientation: c.orientation,
      channels: 3,
      space: "srgb",
      depth: "uchar",
      chromaSubsampling: c.chromaSubsampling,
    };
    const decoded = { ...c.decoded, data: pixels(c.decoded.width, c.decoded.height, rng(c.seed)) };
    const plan = { k: c.k, decode: { target: c.decoded, shrinkOnLoad: c.k > 1 } };
    const crop = cropWindow(c.resized, config);
    const reference = resampleReduced(decoded, header, c.resized, crop, plan, jsKernels);
    const ours = resampleReduced(decoded, header, c.resized, crop, plan, wasm);
    expect(Buffer.from(ours).equals(Buffer.from(reference))).toBe(true);
  });
});

const present = sharedDataPresent("preprocessing goldens", path.join(GOLDEN_DIR, "manifest.json"));
const goldens = present
  ? fs.readdirSync(GOLDEN_DIR).filter((f) => !f.endsWith(".f32") && !f.endsWith(".json"))
  : [];

describe.skipIf(!present)("the pipeline gives the same tensor with either resampler", () => {
  it.each(goldens)("%s", async (file) => {
    const bytes = fs.readFileSync(path.join(GOLDEN_DIR, file));
    const a = await preprocessImage(bytes, config, undefined, { resampler: "js" });
    const b = await preprocessImage(bytes, config, undefined, { resampler: "wasm" });
    if (!a.ok || !b.ok) throw new Error(`${file}: not decoded`);
    expect(b.info.path).toBe(a.info.path);
    expect(Buffer.from(b.pixels.buffer).equals(Buffer.from(a.pixels.buffer))).toBe(true);
  });
});
