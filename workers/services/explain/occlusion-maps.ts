import {
  type Box,
  type OcclusionCell,
  type OcclusionGeometry,
  occlusionCells,
} from "../../../src/protocol/explain.ts";
import { dot } from "../../../src/vector/index.ts";

export interface OcclusionMap {
  /** The whole crop's cosine to the label. */
  similarity: number;
  /** scores[r][c] in [0, 1]: the fall of the similarity when cell (r, c) is hidden, over the largest fall. */
  scores: number[][];
  /** The cell whose hiding lowers the similarity most, in the original image's pixels. */
  peak: Box;
}

/**
 * Occlusion sensitivity for one label: `embeddings[0]` is the unoccluded crop, `embeddings[1 + r·cols + c]` the crop
 * with cell (r, c)'s window hidden (the GPU tier's order). A cell's raw score is how much the label's similarity falls when it
 * is hidden; a cell whose hiding raises it (it argued against the label) gets 0; the scores are divided by the largest
 * fall so the map reads the same whatever the model's similarity scale, and the peak is the cell of the largest fall.
 * A label no cell lowers has an all-zero map, its peak the least-rising cell.
 *
 * @example occlusionMap(embeddings, label, geometry).peak // the box to draw on the photo
 */
export function occlusionMap(
  embeddings: readonly Float32Array[],
  label: Float32Array,
  geometry: Pick<OcclusionGeometry, "input" | "crop" | "grid">,
  cells: readonly OcclusionCell[] = occlusionCells(geometry),
): OcclusionMap {
  const similarity = dot(embeddings[0] as Float32Array, label);
  const falls = cells.map((_, k) => similarity - dot(embeddings[k + 1] as Float32Array, label));
  let peak = 0;
  for (let k = 1; k < falls.length; k++) if ((falls[k] as number) > (falls[peak] as number)) peak = k;
  const top = Math.max(0, falls[peak] as number);
  const { rows, cols } = geometry.grid;
  const scores = Array.from({ length: rows }, (_, r) =>
    Array.from({ length: cols }, (_, c) => (top > 0 ? Math.max(0, falls[r * cols + c] as number) / top : 0)),
  );
  return { similarity, scores, peak: (cells[peak] as OcclusionCell).box };
}
