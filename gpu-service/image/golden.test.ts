/**
 * Fidelity against openai/CLIP's reference preprocessing (PIL), on the shared goldens: every case must be
 * within 0.01 MAE (normalised units). Reads ../shared/clip/preprocess/ beside the repo; skips, saying so,
 * when it isn't there.
 */
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { sharedDataPresent } from "../../test/support/shared-data.ts";
import { fixtureConfig, GOLDEN_DIR, mae } from "../../test/support/test-images.ts";
import { normalizeTable, writeChw } from "./normalize.ts";
import { preprocessImage, preprocessImageInto, preprocessImageRgb } from "./pipeline.ts";

const BOUND = 0.01;
const present = sharedDataPresent(
  "preprocessing goldens (openai/CLIP + PIL)",
  path.join(GOLDEN_DIR, "manifest.json"),
);

interface Case {
  file: string;
  tensor: string;
  shape: [number, number, number];
}
const cases: Case[] = present
  ? JSON.parse(fs.readFileSync(path.join(GOLDEN_DIR, "manifest.json"), "utf8")).cases
  : [];
const config = fixtureConfig();

function reference(c: Case): Float32Array {
  const b = fs.readFileSync(path.join(GOLDEN_DIR, c.tensor));
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

describe.skipIf(!present)(`goldens in ${GOLDEN_DIR} (openai/CLIP + PIL)`, () => {
  it("has the 11 cases of the manifest", () => expect(cases.length).toBeGreaterThanOrEqual(11));

  it.each(cases.map((c) => [c.file, c] as const))("%s is within 0.01 MAE", async (_file, c) => {
    const r = await preprocessImage(fs.readFileSync(path.join(GOLDEN_DIR, c.file)), config);
    if (!r.ok) throw new Error(`${c.file}: ${r.code}: ${r.message}`);
    expect(c.shape).toEqual([3, config.outputHeight, config.outputWidth]);
    const err = mae(r.pixels, reference(c));
    console.log(`golden ${c.file.padEnd(20)} MAE ${err.toFixed(5)}  (${r.info.path})`);
    expect(err).toBeLessThanOrEqual(BOUND);
  });

  it.each(cases.map((c) => [c.file, c] as const))("%s is bit-exact on the exact path", async (_file, c) => {
    const r = await preprocessImage(fs.readFileSync(path.join(GOLDEN_DIR, c.file)), config, undefined, {
      exact: true,
    });
    if (!r.ok) throw new Error(r.message);
    expect(mae(r.pixels, reference(c))).toBeLessThan(1e-6);
  });

  it.each(cases.map((c) => [c.file, c] as const))(
    "%s: the RGB stage (what training data is made of) is the served tensor before normalisation",
    async (_file, c) => {
      const bytes = fs.readFileSync(path.join(GOLDEN_DIR, c.file));
      const rgb = await preprocessImageRgb(bytes, config);
      const served = await preprocessImage(bytes, config);
      if (!rgb.ok || !served.ok) throw new Error(`${c.file} was refused`);
      expect(rgb.info.path).toBe(served.info.path);
      const normalised = new Float32Array(served.pixels.length);
      writeChw(rgb.rgb, rgb.info.crop.width, rgb.info.crop.height, normalizeTable(config), normalised, 0);
      expect(normalised).toEqual(served.pixels);
    },
  );

  it("fills a batch tensor slot by slot, in any completion order, without touching the other slots", async () => {
    const size = 3 * config.outputWidth * config.outputHeight;
    const picked = cases.slice(0, 4);
    const batch = new Float32Array((picked.length + 1) * size).fill(Number.NaN);
    const results = await Promise.all(
      picked.map((c, i) =>
        preprocessImageInto(fs.readFileSync(path.join(GOLDEN_DIR, c.file)), config, batch, i * size),
      ),
    );
    expect(results.every((r) => r.ok)).toBe(true);
    picked.forEach((c, i) => {
      expect(mae(batch.subarray(i * size, (i + 1) * size), reference(c))).toBeLessThanOrEqual(BOUND);
    });
    expect(batch.subarray(picked.length * size).every(Number.isNaN)).toBe(true);
  });
});
