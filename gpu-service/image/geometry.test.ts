import { describe, expect, it } from "vitest";
import { fixtureConfig } from "../../test/support/test-images.ts";
import { readPreprocessConfig } from "./config.ts";
import { cropWindow, orientedSize, pyRound, resizedSize } from "./geometry.ts";

const cfg = fixtureConfig();

describe("pyRound (Python's round: halves to even)", () => {
  it.each([
    [0.5, 0],
    [1.5, 2],
    [2.5, 2],
    [74.5, 74],
    [75.5, 76],
    [1381, 1381],
    [2.4999, 2],
    [2.5001, 3],
    [-0.5, 0],
    [-1.5, -2],
  ])("pyRound(%d) = %d", (x, want) => expect(pyRound(x)).toBe(want));
});

describe("resizedSize (torchvision Resize(int): the long side truncated)", () => {
  it.each([
    [2000, 150, 2986, 224], // banner.jpg: 224 * 2000 / 150 = 2986.67
    [500, 300, 373, 224], // noise.png
    [1024, 768, 298, 224],
    [480, 854, 224, 398],
    [5, 7, 224, 313],
    [224, 224, 224, 224],
    [1, 1, 224, 224],
    [10000, 10, 224000, 224],
  ])("%dx%d -> %dx%d", (w, h, rw, rh) =>
    expect(resizedSize({ width: w, height: h }, cfg)).toEqual({ width: rw, height: rh }),
  );
});

describe("cropWindow (torchvision CenterCrop)", () => {
  it("rounds a half offset to even: noise.png's 373 wide crops at 74, not 75", () => {
    expect(cropWindow({ width: 373, height: 224 }, cfg)).toEqual({
      left: 74,
      top: 0,
      width: 224,
      height: 224,
    });
  });
  it("is centred for even margins", () => {
    expect(cropWindow({ width: 2986, height: 224 }, cfg)).toEqual({
      left: 1381,
      top: 0,
      width: 224,
      height: 224,
    });
  });
  it("pads (negative offset) when the crop is larger than the image, as torchvision does", () => {
    const big = readPreprocessConfig({ size: 224, crop_size: 231, image_mean: 0.5, image_std: 0.5 });
    expect(cropWindow({ width: 224, height: 300 }, big)).toEqual({
      left: -3,
      top: 34,
      width: 231,
      height: 231,
    }); // 34.5 rounds to 34
  });
});

describe("orientedSize", () => {
  it("swaps width and height for EXIF orientations 5-8 only", () => {
    for (let o = 1; o <= 8; o++) {
      expect(orientedSize({ width: 800, height: 600 }, o)).toEqual(
        o >= 5 ? { width: 600, height: 800 } : { width: 800, height: 600 },
      );
    }
  });
});
