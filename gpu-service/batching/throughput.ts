/**
 * The batcher's recent throughput, in items per ms, over its last completed batches. Each batch is timed from the
 * moment the pipeline's output started waiting for it — its flush, or the previous completion if that came later —
 * to its own completion. While the pipeline is busy that is the time between completions (the slowest stage, be it
 * decoding or inference); for a lone batch it is its whole prepare + execute. Waiting for company is never counted.
 *
 * @example
 * const recent = new RecentThroughput(8);
 * recent.record(4, 0, 20); // 4 items flushed at t=0, done at t=20
 * recent.itemsPerMs();     // 0.2
 */
export class RecentThroughput {
  readonly #window: number;
  readonly #items: number[] = [];
  readonly #busyMs: number[] = [];
  #lastCompletedAt = Number.NEGATIVE_INFINITY;

  constructor(window: number) {
    this.#window = window;
  }

  record(items: number, flushedAt: number, completedAt: number): void {
    const busyMs = completedAt - Math.max(flushedAt, this.#lastCompletedAt);
    this.#lastCompletedAt = Math.max(this.#lastCompletedAt, completedAt);
    this.#items.push(items);
    this.#busyMs.push(Math.max(0, busyMs));
    if (this.#items.length > this.#window) {
      this.#items.shift();
      this.#busyMs.shift();
    }
  }

  /** Undefined before any batch completed (or when none took measurable time): no history, no estimate. */
  itemsPerMs(): number | undefined {
    const ms = this.#busyMs.reduce((sum, value) => sum + value, 0);
    if (ms <= 0) return undefined;
    return this.#items.reduce((sum, value) => sum + value, 0) / ms;
  }
}
