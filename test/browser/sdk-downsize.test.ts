// The SDK's downsizeImage in a real headless Chromium (createImageBitmap, OffscreenCanvas, its JPEG encoder), on
// fresh photo-sized renders: the size it picks, EXIF orientation applied, and — embedded by the real stack — the
// cosine it keeps against the original upload. `npm run bench:upload` measures the same rule with sharp; this is the
// browser's own resampler and encoder.
import { readFileSync } from "node:fs";
import { stripTypeScriptTypes } from "node:module";
import type { Browser } from "puppeteer-core";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_MIN_SHORT_SIDE, targetSize } from "../../sdk/typescript/src/downsize.ts";
import { renderShapeSample } from "../../shapes-world/index.ts";
import { chromiumAvailable, launchChromium, watchedPage } from "../support/browser.ts";
import { type EdgeStack, startEdgeStack } from "../support/edge-stack.ts";

/** A seed of its own: renders no other test or training run uses. */
const SEED = 0x0d0_5ea1;
// The helper has no imports: its source, types stripped, is the module the page loads (from a data: URL, which the
// page watcher allows as it stays on the machine).
const DOWNSIZE_MODULE = `data:text/javascript;base64,${Buffer.from(
  stripTypeScriptTypes(
    readFileSync(new URL("../../sdk/typescript/src/downsize.ts", import.meta.url), "utf8"),
  ),
).toString("base64")}`;

describe.runIf(chromiumAvailable())("the SDK's downsizeImage in Chromium", () => {
  let stack: EdgeStack;
  let browser: Browser;
  beforeAll(async () => {
    [stack, browser] = await Promise.all([startEdgeStack(), launchChromium()]);
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  /** Runs downsizeImage on `bytes` in the page; the Blob it gives back, as bytes and its type. */
  async function downsizeInBrowser(bytes: Uint8Array) {
    const { page, outside, errors } = await watchedPage(browser);
    await page.goto(`${stack.edgeUrl}/`, { waitUntil: "networkidle0" });
    // A module script rather than import() in the callback: the test runner rewrites import() in test code.
    await page.addScriptTag({
      type: "module",
      content: `import { downsizeImage } from "${DOWNSIZE_MODULE}"; globalThis.downsizeImage = downsizeImage;`,
    });
    await page.waitForFunction(() => "downsizeImage" in globalThis);
    const out = await page.evaluate(async (base64) => {
      const downsizeImage = (globalThis as unknown as { downsizeImage: (b: Blob) => Promise<Blob> })
        .downsizeImage;
      const input = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      const blob = await downsizeImage(new Blob([input], { type: "image/jpeg" }));
      const result = new Uint8Array(await blob.arrayBuffer());
      let binary = "";
      for (const byte of result) binary += String.fromCharCode(byte);
      return { type: blob.type, base64: btoa(binary) };
    }, Buffer.from(bytes).toString("base64"));
    expect(outside).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
    return { type: out.type, bytes: new Uint8Array(Buffer.from(out.base64, "base64")) };
  }

  async function cosine(a: Uint8Array, b: Uint8Array): Promise<number> {
    const response = await fetch(`${stack.edgeUrl}/v1/embeddings`, {
      method: "POST",
      headers: { "content-type": "application/json", ...stack.apiHeaders },
      body: JSON.stringify({
        input: [a, b].map((bytes) => ({ image: { base64: Buffer.from(bytes).toString("base64") } })),
      }),
    });
    expect(response.status, await response.clone().text()).toBe(200);
    const [x, y] = ((await response.json()) as { data: { embedding: number[] }[] }).data.map(
      (d) => d.embedding,
    );
    return (x as number[]).reduce((sum, v, i) => sum + v * ((y as number[])[i] as number), 0);
  }

  it("downsizes fresh 2000 × 1500 photos to the recommended short side as JPEG, keeping what the model sees", async () => {
    for (const index of [0, 1, 2]) {
      const photo = await renderShapeSample(SEED, index, {
        pairs: "all",
        width: index === 1 ? 1500 : 2000,
        height: index === 1 ? 2000 : 1500,
        format: "jpeg",
      });
      const out = await downsizeInBrowser(photo.bytes);
      expect(out.type).toBe("image/jpeg");
      const meta = await sharp(out.bytes).metadata();
      expect(meta.format).toBe("jpeg");
      expect({ width: meta.width, height: meta.height }).toEqual(
        targetSize(photo.width, photo.height, DEFAULT_MIN_SHORT_SIDE),
      );
      // Bytes are printed, not asserted: a synthetic render compresses far better than a photo, so its own JPEG can
      // be smaller than the browser's re-encoding at quality 0.9 (bench:upload measures bytes on such renders).
      const kept = await cosine(photo.bytes, out.bytes);
      console.log(
        `downsizeImage in Chromium: ${photo.width}×${photo.height}, ${photo.bytes.byteLength} → ${out.bytes.byteLength} bytes, cosine ${kept.toFixed(5)}`,
      );
      expect(kept).toBeGreaterThanOrEqual(0.99);
    }
  }, 180_000);

  it("applies EXIF orientation: a photo stored sideways comes out upright", async () => {
    const photo = await renderShapeSample(SEED, 7, {
      pairs: "all",
      width: 2000,
      height: 1500,
      format: "jpeg",
    });
    // Stored rotated a quarter turn with orientation 6: a viewer turns it back to 2000 × 1500.
    const stored = new Uint8Array(
      await sharp(photo.bytes).rotate(270).withMetadata({ orientation: 6 }).jpeg({ quality: 92 }).toBuffer(),
    );
    const out = await downsizeInBrowser(stored);
    const meta = await sharp(out.bytes).metadata();
    expect({ width: meta.width, height: meta.height }).toEqual(
      targetSize(2000, 1500, DEFAULT_MIN_SHORT_SIDE),
    );
    expect(meta.orientation ?? 1).toBe(1);
    expect(await cosine(photo.bytes, out.bytes)).toBeGreaterThanOrEqual(0.99);
  }, 120_000);

  it("leaves a photo already at or below the recommended size as it was, byte for byte", async () => {
    const small = await renderShapeSample(SEED, 9, { pairs: "all", width: 400, height: 300, format: "jpeg" });
    const out = await downsizeInBrowser(small.bytes);
    expect(Buffer.from(out.bytes).equals(Buffer.from(small.bytes))).toBe(true);
  }, 60_000);
});
