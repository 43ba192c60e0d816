import type { ItemErrorStatus } from "../../src/protocol/index.ts";

/** One item's outcome: its unit-length embedding, or a coded error that fails it alone. */
export type EmbedOutcome =
  | { ok: true; embedding: Float32Array }
  | { ok: false; code: ItemErrorStatus; message: string };

/** Shapes a batch may be padded up to (those warmed at start); `undefined` when batches run at their own size. */
export function paddedSize(count: number, shapes: readonly number[] | undefined): number {
  if (!shapes) return count;
  return shapes.find((size) => size >= count) ?? count;
}
