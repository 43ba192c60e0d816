import { afterAll, describe, expect, it } from "vitest";
import { fixtureConfig, rawRgb, syntheticRgb } from "../../test/support/test-images.ts";
import { preprocessImage } from "./pipeline.ts";
import { createPreprocessPool } from "./pool.ts";

const config = fixtureConfig();
const pool = createPreprocessPool({ threads: 2 });
afterAll(() => pool.close());

const images = await Promise.all(
  [1, 2, 3].map((seed) =>
    rawRgb(syntheticRgb(400 + seed * 50, 300, seed), 400 + seed * 50, 300)
      .jpeg()
      .toBuffer(),
  ),
);

describe("createPreprocessPool", () => {
  it("gives the same tensors as preprocessImage on the calling thread", async () => {
    const [inPool, direct] = await Promise.all([
      Promise.all(images.map((b) => pool.preprocessImage(b, config))),
      Promise.all(images.map((b) => preprocessImage(b, config))),
    ]);
    inPool.forEach((r, i) => {
      const d = direct[i];
      if (!r.ok || !d?.ok) throw new Error("decode failed");
      expect(r.pixels).toEqual(d.pixels);
    });
  });

  it("writes straight into a batch tensor on a SharedArrayBuffer, and copies into an ordinary one", async () => {
    const size = 3 * 224 * 224;
    for (const buffer of [
      new SharedArrayBuffer(images.length * size * 4),
      new ArrayBuffer(images.length * size * 4),
    ]) {
      const batch = new Float32Array(buffer);
      const results = await Promise.all(
        images.map((b, i) => pool.preprocessImageInto(b, config, batch, i * size)),
      );
      expect(results.every((r) => r.ok)).toBe(true);
      for (const [i, b] of images.entries()) {
        const d = await preprocessImage(b, config);
        if (!d.ok) throw new Error(d.message);
        expect(batch.subarray(i * size, (i + 1) * size)).toEqual(d.pixels);
      }
    }
  });

  it("returns image errors as values", async () => {
    const r = await pool.preprocessImage(new TextEncoder().encode("<svg/>"), config);
    expect(r).toMatchObject({ ok: false, code: "unsupported_format" });
  });
});
