import { describe, expect, it } from "vitest";
import {
  cellBounds,
  occlusionCells,
  parseExplainGrid,
  parseOcclusionGeometry,
} from "../../src/protocol/explain.ts";
import { heatmapLayout } from "./heatmap.ts";
import { cropInOriginal, occludedInput } from "./occlusion.ts";

describe("occlusion geometry", () => {
  it("cuts the input with Math.round(i × size / g): cells differ by at most a pixel and tile it", () => {
    expect(cellBounds(224, 7)).toEqual([0, 32, 64, 96, 128, 160, 192, 224]);
    expect(cellBounds(224, 5)).toEqual([0, 45, 90, 134, 179, 224]);
  });

  it("maps the pipeline's crop window back to the original through the resize's scale", () => {
    // 640×480 → resized 298×224 (int(224·640/480)), window left round(74/2) = 37.
    const info = { width: 640, height: 480, resized: { width: 298, height: 224 } };
    const crop = cropInOriginal({ ...info, crop: { left: 37, top: 0, width: 224, height: 224 } });
    expect(crop.x).toBeCloseTo((37 * 640) / 298, 12);
    expect(crop.width).toBeCloseTo((224 * 640) / 298, 12);
    expect(crop).toMatchObject({ y: 0, height: 480 });
    expect(heatmapLayout({ ...info, crop: { left: 37, top: 0, width: 224, height: 224 } })).toEqual({
      region: { left: 79, top: 0, width: 482, height: 480 },
      width: 482,
      height: 480,
    });
  });

  it("gives every cell's box in the original, row-major", () => {
    const cells = occlusionCells({
      input: { width: 224, height: 224 },
      crop: { x: 100, y: 0, width: 448, height: 448 },
      grid: { rows: 4, cols: 4 },
    });
    expect(cells).toHaveLength(16);
    expect(cells[5]).toMatchObject({
      row: 1,
      col: 1,
      input: { left: 56, top: 56, right: 112, bottom: 112 },
      hidden: { left: 28, top: 28, right: 140, bottom: 140 },
      box: { x: 212, y: 112, width: 112, height: 112 },
    });
  });

  it("hides each cell with half a cell around it, clipped at the input's edges, always covering the cell", () => {
    const geometry = { input: { width: 224, height: 224 }, crop: { x: 0, y: 0, width: 224, height: 224 } };
    const cells = occlusionCells({ ...geometry, grid: { rows: 7, cols: 7 } });
    expect(cells[0]?.hidden).toEqual({ left: 0, top: 0, right: 48, bottom: 48 });
    expect(cells[24]?.hidden).toEqual({ left: 80, top: 80, right: 144, bottom: 144 });
    expect(cells[48]?.hidden).toEqual({ left: 176, top: 176, right: 224, bottom: 224 });
    for (const g of [4, 5, 9, 13, 14])
      for (const { input: cell, hidden } of occlusionCells({ ...geometry, grid: { rows: g, cols: g } })) {
        expect(hidden.left <= cell.left && hidden.top <= cell.top).toBe(true);
        expect(hidden.right >= cell.right && hidden.bottom >= cell.bottom).toBe(true);
        expect(Math.min(hidden.left, 224 - hidden.right)).toBeGreaterThanOrEqual(0);
        // Half a cell on each side (±1 px of rounding), except where the input ends.
        if (cell.left > 0) expect(cell.left - hidden.left).toBeCloseTo(224 / g / 2, -0.5);
        if (cell.right < 224) expect(hidden.right - cell.right).toBeCloseTo(224 / g / 2, -0.5);
      }
  });

  it("parses the geometry header only for this method: another window or occluder is a bad upstream", () => {
    const geometry = {
      image: { width: 640, height: 480 },
      input: { width: 224, height: 224 },
      crop: { x: 80, y: 0, width: 480, height: 480 },
      grid: { rows: 7, cols: 7 },
      occluder: "normalized-mean",
      window: 2,
    };
    expect(parseOcclusionGeometry(JSON.stringify(geometry))).toEqual(geometry);
    for (const other of [{ window: 1 }, { window: undefined }, { occluder: "blur" }])
      expect(parseOcclusionGeometry(JSON.stringify({ ...geometry, ...other }))).toBeUndefined();
    expect(parseOcclusionGeometry("{not json")).toBeUndefined();
    expect(parseOcclusionGeometry(null)).toBeUndefined();
  });

  it("accepts grids 4..14 only, as integers", () => {
    expect(parseExplainGrid("4")).toBe(4);
    expect(parseExplainGrid(14)).toBe(14);
    for (const bad of ["3", "15", "6.5", "", "1e1", " 7", undefined])
      expect(typeof parseExplainGrid(bad)).toBe("string");
  });
});

describe("occludedInput", () => {
  it("writes the base into its slot with exactly the cell's window zeroed in every channel, the base untouched", () => {
    const [w, h] = [8, 8];
    const base = Float32Array.from({ length: 3 * w * h }, (_, i) => i + 1);
    const [cell] = occlusionCells({
      input: { width: w, height: h },
      crop: { x: 0, y: 0, width: w, height: h },
      grid: { rows: 4, cols: 4 },
    }).slice(6, 7); // row 1, col 2: the cell x 4..6, y 2..4; its window x 3..7, y 1..5
    const out = new Float32Array(2 * base.length).fill(-1);
    occludedInput(base, cell, w).write(out, base.length);
    expect(out.subarray(0, base.length).every((v) => v === -1)).toBe(true);
    for (let c = 0; c < 3; c++)
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++) {
          const i = c * w * h + y * w + x;
          const hidden = x >= 3 && x < 7 && y >= 1 && y < 5;
          expect(out[base.length + i]).toBe(hidden ? 0 : base[i]);
        }
    expect(base[0]).toBe(1);
    occludedInput(base, undefined, w).write(out, 0);
    expect(Array.from(out.subarray(0, base.length))).toEqual(Array.from(base));
  });
});
