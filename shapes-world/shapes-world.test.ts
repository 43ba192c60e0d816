import sharp from "sharp";
import { describe, expect, it } from "vitest";
import {
  ALL_PAIRS,
  COLOURS,
  captionBank,
  describeSample,
  HELD_OUT_PAIRS,
  isHeldOut,
  renderShapeSample,
  SHAPES,
} from "./index.ts";
import { colourDistance } from "./palette.ts";

const PLURAL = (shape: string) => `${shape}s`;

describe("shapes world", () => {
  it("is deterministic in (seed, index, options)", async () => {
    const a = await renderShapeSample(3, 17);
    const b = await renderShapeSample(3, 17);
    const c = await renderShapeSample(3, 18);
    expect(Buffer.from(a.bytes).equals(Buffer.from(b.bytes))).toBe(true);
    expect(a.caption).toBe(b.caption);
    expect(Buffer.from(a.bytes).equals(Buffer.from(c.bytes))).toBe(false);
  });

  it("never renders a held-out pair unless asked, and renders only those when asked", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 3000; i++) {
      const { scene } = describeSample(1, i);
      expect(isHeldOut(scene)).toBe(false);
      seen.add(`${scene.colour} ${scene.shape}`);
    }
    expect(seen.size).toBe(ALL_PAIRS.length - HELD_OUT_PAIRS.length);
    for (let i = 0; i < 200; i++)
      expect(isHeldOut(describeSample(2, i, { pairs: "held-out" }).scene)).toBe(true);
    expect(() => describeSample(2, 0, { pair: { colour: "white", shape: "circle" } })).toThrow(
      /not in the "seen" set/,
    );
  });

  it("keeps every object inside the central square, on a contrasting background that is not its colour", () => {
    for (let i = 0; i < 2000; i++) {
      const { scene } = describeSample(5, i, { pairs: "all" });
      const side = Math.min(scene.width, scene.height);
      const x0 = (scene.width - side) / 2;
      const y0 = (scene.height - side) / 2;
      expect(scene.objects).toHaveLength(scene.count);
      for (const o of scene.objects) {
        expect(o.cx - o.radius).toBeGreaterThanOrEqual(x0);
        expect(o.cx + o.radius).toBeLessThanOrEqual(x0 + side);
        expect(o.cy - o.radius).toBeGreaterThanOrEqual(y0);
        expect(o.cy + o.radius).toBeLessThanOrEqual(y0 + side);
        expect(colourDistance(o.fill, scene.background.rgb)).toBeGreaterThan(140);
      }
      expect(scene.background.name).not.toBe(scene.colour);
    }
  });

  it("varies counts, aspect ratios and formats, and captions name the colour and the shape", () => {
    const counts = new Set<number>();
    const orientations = new Set<string>();
    const formats = new Set<string>();
    for (let i = 0; i < 500; i++) {
      const { scene, caption } = describeSample(6, i, { pairs: "all" });
      counts.add(scene.count);
      orientations.add(
        scene.width > scene.height ? "landscape" : scene.width < scene.height ? "portrait" : "square",
      );
      formats.add(scene.format);
      expect(caption.text).toContain(scene.colour);
      expect(caption.text).toContain(scene.count === 1 ? scene.shape : PLURAL(scene.shape));
    }
    expect([...counts].sort()).toEqual([1, 2, 3]);
    expect(orientations.size).toBe(3);
    expect(formats.size).toBe(2);
  });

  it("renders phone-sized JPEGs on request", async () => {
    const sample = await renderShapeSample(9, 0, { pairs: "all", megapixels: 4, format: "jpeg" });
    expect(sample.mime).toBe("image/jpeg");
    const meta = await sharp(sample.bytes).metadata();
    expect(meta.format).toBe("jpeg");
    expect(meta.width * meta.height).toBeGreaterThan(3.9e6);
    expect([meta.width, meta.height]).toEqual([sample.width, sample.height]);
    const exact = await renderShapeSample(9, 1, { width: 640, height: 480, format: "png" });
    expect([exact.width, exact.height, exact.mime]).toEqual([640, 480, "image/png"]);
  });

  it("has a caption bank covering every colour–shape pair", () => {
    const bank = captionBank();
    expect(bank).toHaveLength(COLOURS.length * SHAPES.length * 7);
    expect(bank.map((c) => c.text)).toContain("a photo of a white circle.");
    expect(bank.map((c) => c.text)).toContain("three orange squares");
  });
});
