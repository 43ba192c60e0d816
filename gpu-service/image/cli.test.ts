/** The CLI other checks call: `npm run --silent preprocess -- IMAGE --out OUT.f32 [--png OUT.png] [--model DIR]`. */
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import sharp from "sharp";
import { afterAll, describe, expect, it } from "vitest";
import { fixtureConfig, REPO_ROOT, rawRgb, syntheticRgb } from "../../test/support/test-images.ts";
import { preprocessImage } from "./pipeline.ts";

const run = promisify(execFile);
const CLI = path.join(import.meta.dirname, "cli.ts");
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "preprocess-cli-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { cwd: REPO_ROOT });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe("preprocess CLI", () => {
  const image = path.join(dir, "photo.jpg");
  fs.writeFileSync(image, Buffer.alloc(0));

  it("writes the model's input tensor (float32 CHW little-endian) and a viewable PNG of it", async () => {
    fs.writeFileSync(image, await rawRgb(syntheticRgb(640, 480), 640, 480).jpeg().toBuffer());
    const out = path.join(dir, "photo.f32");
    const png = path.join(dir, "photo.png");
    const r = await cli(image, "--out", out, "--png", png, "--model", path.join(dir, "no-model-yet"));
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, shape: [3, 224, 224], format: "jpeg" });
    expect(r.stderr).toMatch(/not found; using the standard CLIP config/);

    const bytes = fs.readFileSync(out);
    expect(bytes.length).toBe(3 * 224 * 224 * 4);
    const written = Array.from({ length: 3 * 224 * 224 }, (_, i) => bytes.readFloatLE(i * 4));
    const direct = await preprocessImage(fs.readFileSync(image), fixtureConfig());
    if (!direct.ok) throw new Error(direct.message);
    expect(written).toEqual(Array.from(direct.pixels));

    const meta = await sharp(png).metadata();
    expect([meta.format, meta.width, meta.height, meta.channels]).toEqual(["png", 224, 224, 3]);
  });

  it("reads the model directory's preprocessor_config.json when there is one", async () => {
    const model = path.join(dir, "small-model");
    fs.mkdirSync(model);
    fs.writeFileSync(
      path.join(model, "preprocessor_config.json"),
      JSON.stringify({
        size: { shortest_edge: 64 },
        crop_size: 56,
        resample: 3,
        image_mean: 0.5,
        image_std: 0.5,
      }),
    );
    const out = path.join(dir, "small.f32");
    const r = await cli(image, "--out", out, "--model", model);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).shape).toEqual([3, 56, 56]);
    expect(fs.statSync(out).size).toBe(3 * 56 * 56 * 4);
  });

  it("reports an image error with its code and exit status 2, writing nothing", async () => {
    const bad = path.join(dir, "page.svg");
    fs.writeFileSync(bad, "<svg xmlns='http://www.w3.org/2000/svg'/>");
    const out = path.join(dir, "bad.f32");
    const r = await cli(bad, "--out", out);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, code: "unsupported_format" });
    expect(fs.existsSync(out)).toBe(false);
  });

  it("exits 1 with usage on missing arguments", async () => {
    const r = await cli(image);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/usage: preprocess IMAGE --out OUT.f32/);
  });
});
