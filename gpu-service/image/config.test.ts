import { describe, expect, it } from "vitest";
import { fixtureConfig } from "../../test/support/test-images.ts";
import { PreprocessConfigError, readPreprocessConfig } from "./config.ts";

const CLIP = {
  size: { shortest_edge: 224 },
  resample: 3,
  crop_size: { height: 224, width: 224 },
  do_center_crop: true,
  rescale_factor: 1 / 255,
  image_mean: [0.48145466, 0.4578275, 0.40821073],
  image_std: [0.26862954, 0.26130258, 0.27577711],
};

describe("readPreprocessConfig", () => {
  it("reads CLIP's standard preprocessor_config.json (the fixture)", () => {
    const c = fixtureConfig();
    expect(c.resize).toEqual({ kind: "shortest_edge", size: 224 });
    expect(c.resample).toBe(3);
    expect(c.crop).toEqual({ width: 224, height: 224 });
    expect(c.rescaleFactor).toBeCloseTo(1 / 255, 12);
    expect(c.normalize?.mean).toEqual([0.48145466, 0.4578275, 0.40821073]);
    expect(c.normalize?.std).toEqual([0.26862954, 0.26130258, 0.27577711]);
    expect([c.outputWidth, c.outputHeight]).toEqual([224, 224]);
  });

  it("takes the sizes from the config, never from CLIP", () => {
    const c = readPreprocessConfig({ ...CLIP, size: 336, crop_size: 320, image_mean: 0.5, image_std: 0.5 });
    expect(c.resize).toEqual({ kind: "shortest_edge", size: 336 });
    expect([c.outputWidth, c.outputHeight]).toEqual([320, 320]);
    expect(c.normalize?.mean).toEqual([0.5, 0.5, 0.5]);
  });

  it("honours do_rescale / do_normalize / exact sizes without a crop", () => {
    const c = readPreprocessConfig({
      size: { height: 64, width: 96 },
      do_center_crop: false,
      do_rescale: false,
      do_normalize: false,
    });
    expect(c.resize).toEqual({ kind: "exact", width: 96, height: 64 });
    expect(c.crop).toBeNull();
    expect(c.rescaleFactor).toBe(1);
    expect(c.normalize).toBeNull();
    expect([c.outputWidth, c.outputHeight]).toEqual([96, 64]);
  });

  it.each([
    ["not an object", [], /JSON object/],
    ["no size", { ...CLIP, size: undefined }, /size is missing/],
    ["nearest filter", { ...CLIP, resample: 0 }, /resample 0/],
    ["unknown filter", { ...CLIP, resample: 9 }, /resample must be/],
    ["two-value mean", { ...CLIP, image_mean: [0.5, 0.5] }, /image_mean/],
    ["zero std", { ...CLIP, image_std: [0.2, 0, 0.2] }, /image_std/],
    ["negative size", { ...CLIP, size: { shortest_edge: -1 } }, /shortest_edge/],
    ["no fixed output size", { ...CLIP, do_center_crop: false }, /do_center_crop/],
    ["grey output", { ...CLIP, do_convert_rgb: false }, /do_convert_rgb/],
    ["longest_edge", { ...CLIP, size: { shortest_edge: 224, longest_edge: 300 } }, /longest_edge/],
  ])("rejects %s with a message naming the field", (_name, json, message) => {
    expect(() => readPreprocessConfig(json)).toThrow(PreprocessConfigError);
    expect(() => readPreprocessConfig(json)).toThrow(message);
  });
});
