import { describe, expect, it } from "vitest";
import { rawRgb, syntheticRgb } from "../../test/support/test-images.ts";
import { declaredSize } from "./header.ts";

const rgb = syntheticRgb(123, 45);

describe("declaredSize reads width x height from the header alone", () => {
  it.each([
    ["jpeg", () => rawRgb(rgb, 123, 45).jpeg().toBuffer()],
    [
      "jpeg",
      () => rawRgb(rgb, 123, 45).jpeg({ progressive: true }).withMetadata({ orientation: 6 }).toBuffer(),
    ],
    ["png", () => rawRgb(rgb, 123, 45).png().toBuffer()],
    ["gif", () => rawRgb(rgb, 123, 45).gif().toBuffer()],
    ["webp", () => rawRgb(rgb, 123, 45).webp().toBuffer()],
    ["webp", () => rawRgb(rgb, 123, 45).webp({ lossless: true }).toBuffer()],
    ["webp", () => rawRgb(rgb, 123, 45).ensureAlpha().webp().toBuffer()],
    ["tiff", () => rawRgb(rgb, 123, 45).tiff().toBuffer()],
    ["avif", () => rawRgb(rgb, 123, 45).avif().toBuffer()],
  ] as const)("%s", async (format, make) => {
    expect(declaredSize(await make(), format)).toEqual({ width: 123, height: 45 });
  });

  it("returns null rather than guessing on truncated headers", () => {
    expect(declaredSize(Uint8Array.from([0xff, 0xd8, 0xff]), "jpeg")).toBeNull();
    expect(declaredSize(new Uint8Array(10), "png")).toBeNull();
  });
});
