import * as z from "zod";

/**
 * What both tiers share about `/v1/explain` (FORMAT.md, "Explain: occlusion"): the grid limits, the geometry the GPU
 * tier reports with its occlusion embeddings, the one definition of the cells (so the boxes the edge reports are by
 * construction the pixels the GPU tier hid), and the heatmap request.
 */

/** Grid sides accepted: 4×4 is the coarsest map worth drawing; 14×14 = 196 cells is 16 px cells at 224², and 197 passes. */
export const MIN_EXPLAIN_GRID = 4;
export const MAX_EXPLAIN_GRID = 14;
/** Embeddings in an occlusion answer at most: every cell of the largest grid, plus the unoccluded image first. */
export const MAX_OCCLUSION_ITEMS = MAX_EXPLAIN_GRID * MAX_EXPLAIN_GRID + 1;
/** The response header carrying {@link OcclusionGeometry} as JSON, beside the embeddings frame in the body. */
export const EXPLAIN_GEOMETRY_HEADER = "x-clip-explain-geometry";
/** The occluder, named in the geometry so a change of method is visible to the edge (and in its answers). */
export const OCCLUDER = "normalized-mean";
/**
 * The side of the square hidden for one cell, in cells, centred on it (clipped at the crop's edge): the cell and half
 * a cell around it. Zeiler and Fergus's occlusion slides an occluder larger than its stride, and for a ViT the reason
 * is plain: an occluder that covers exactly one cell hides one patch token, while an object straddling cells (almost
 * every object) keeps its evidence in the neighbouring tokens, so hiding any single cell of it barely moves the
 * similarity and a background cell can win. Twice the stride hides every object part touching the cell. The grid,
 * the scores and the peak stay per cell; the cost stays one pass per cell. In the geometry, like the occluder.
 */
export const OCCLUSION_WINDOW = 2;

/**
 * `grid` from a query string or JSON: an integer in MIN..MAX_EXPLAIN_GRID, or a message.
 *
 * @example parseExplainGrid("7") === 7; typeof parseExplainGrid("3") === "string"; typeof parseExplainGrid("6.5") === "string"
 */
export function parseExplainGrid(value: string | number | undefined): number | string {
  const text = String(value ?? "");
  const g = Number(text);
  if (!/^\d+$/.test(text) || g < MIN_EXPLAIN_GRID || g > MAX_EXPLAIN_GRID)
    return `grid must be an integer in ${MIN_EXPLAIN_GRID}..${MAX_EXPLAIN_GRID}, got "${text}"`;
  return g;
}

const Box = z.object({
  x: z.number(),
  y: z.number(),
  width: z.number().positive(),
  height: z.number().positive(),
});
export type Box = z.infer<typeof Box>;
const Size = z.object({ width: z.int().positive(), height: z.int().positive() });

/**
 * Where the model looked, in the original image's pixels (after EXIF orientation): `crop` is the region of the image
 * that the resize and centre crop turn into the `input` tensor (fractional: the resize scales by a non-integer
 * factor). It may reach outside the image only for a model whose crop is larger than its resize (padded).
 */
export const OcclusionGeometry = z.object({
  image: Size,
  input: Size,
  crop: Box,
  grid: z.object({
    rows: z.int().min(MIN_EXPLAIN_GRID).max(MAX_EXPLAIN_GRID),
    cols: z.int().min(MIN_EXPLAIN_GRID).max(MAX_EXPLAIN_GRID),
  }),
  occluder: z.literal(OCCLUDER),
  window: z.literal(OCCLUSION_WINDOW),
});
export type OcclusionGeometry = z.infer<typeof OcclusionGeometry>;

/**
 * The geometry header parsed, or undefined when it is absent or not one (an answer to treat as a bad upstream).
 *
 * @example const geometry = parseOcclusionGeometry(answer.headers.get(EXPLAIN_GEOMETRY_HEADER))
 */
export function parseOcclusionGeometry(header: string | null | undefined): OcclusionGeometry | undefined {
  if (!header) return undefined;
  try {
    const parsed = OcclusionGeometry.safeParse(JSON.parse(header));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The `parts + 1` boundaries that cut `size` input pixels into `parts` cells: `Math.round(i * size / parts)`, so cells
 * differ by at most one pixel and tile the input exactly.
 *
 * @example cellBounds(224, 7) // [0, 32, 64, 96, 128, 160, 192, 224]
 */
export function cellBounds(size: number, parts: number): number[] {
  return Array.from({ length: parts + 1 }, (_, i) => Math.round((i * size) / parts));
}

/** Input pixels, half-open: columns left..right-1, rows top..bottom-1. */
export interface PixelRect {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

/**
 * One cell: its place in the grid, its pixels in the model's input, the pixels hidden to measure it (its
 * {@link OCCLUSION_WINDOW}, clipped to the input) and its box in the original.
 */
export interface OcclusionCell {
  row: number;
  col: number;
  input: PixelRect;
  hidden: PixelRect;
  box: Box;
}

/**
 * Every cell of the grid, row-major (r, then c): the order of the occluded embeddings after the unoccluded one. Input
 * pixel bounds map to the original linearly through the crop (the resize is one scale per axis).
 *
 * @example occlusionCells(geometry)[0].box // the top-left cell, in the photo's pixels
 */
export function occlusionCells(
  geometry: Pick<OcclusionGeometry, "input" | "crop" | "grid">,
): OcclusionCell[] {
  const { input, crop, grid } = geometry;
  const ys = cellBounds(input.height, grid.rows);
  const xs = cellBounds(input.width, grid.cols);
  // Half-cell boundaries: the window of cell i runs from half-cell 2i − (W − 1) to 2i + 1 + W, clipped.
  const halfYs = cellBounds(input.height, 2 * grid.rows);
  const halfXs = cellBounds(input.width, 2 * grid.cols);
  const reach = OCCLUSION_WINDOW - 1;
  const halfAt = (bounds: number[], i: number) =>
    bounds[Math.min(bounds.length - 1, Math.max(0, i))] as number;
  const sx = crop.width / input.width;
  const sy = crop.height / input.height;
  const cells: OcclusionCell[] = [];
  for (let row = 0; row < grid.rows; row++) {
    for (let col = 0; col < grid.cols; col++) {
      const [left, right, top, bottom] = [xs[col], xs[col + 1], ys[row], ys[row + 1]] as number[] as [
        number,
        number,
        number,
        number,
      ];
      cells.push({
        row,
        col,
        input: { left, top, right, bottom },
        hidden: {
          left: halfAt(halfXs, 2 * col - reach),
          top: halfAt(halfYs, 2 * row - reach),
          right: halfAt(halfXs, 2 * col + 2 + reach),
          bottom: halfAt(halfYs, 2 * row + 2 + reach),
        },
        box: {
          x: crop.x + left * sx,
          y: crop.y + top * sy,
          width: (right - left) * sx,
          height: (bottom - top) * sy,
        },
      });
    }
  }
  return cells;
}

/** The heatmap's longest side at most, in pixels (smaller crops keep their size). */
export const MAX_HEATMAP_SIDE = 512;

/**
 * `POST /v1/explain/heatmap` on the GPU tier: the image (base64, as sent to the occlusion route) and a square grid of
 * scores in [0, 1], row-major as the occlusion cells.
 */
export const HeatmapRequest = z
  .object({
    image: z.string().min(1),
    scores: z
      .array(z.array(z.number().min(0).max(1)))
      .min(MIN_EXPLAIN_GRID)
      .max(MAX_EXPLAIN_GRID),
  })
  .refine((r) => r.scores.every((row) => row.length === r.scores.length), {
    message: "scores must be a square grid (every row as long as there are rows)",
    path: ["scores"],
  });
export type HeatmapRequest = z.infer<typeof HeatmapRequest>;
