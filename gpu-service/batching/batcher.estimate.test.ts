import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { manualBatcher, settle, track } from "../../test/support/batchers.ts";

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** Runs one batch of `items` through a manual batcher: `prepareMs` of prepare, then `executeMs` of execute. */
async function runOneBatch(
  setup: ReturnType<typeof manualBatcher>,
  items: string[],
  prepareMs: number,
  executeMs: number,
): Promise<void> {
  const { batcher, prepares, executes } = setup;
  const results = items.map((item) => track(batcher.submit(item)));
  await settle();
  await vi.advanceTimersByTimeAsync(prepareMs);
  prepares.at(-1)?.resolve();
  await settle();
  await vi.advanceTimersByTimeAsync(executeMs);
  executes.at(-1)?.resolve(undefined);
  await settle();
  expect(results.map((r) => r.status)).toEqual(items.map(() => "fulfilled"));
}

describe("Batcher.estimateCompletion", () => {
  it("has nothing to say before a batch has completed, even with work queued", async () => {
    const { batcher } = manualBatcher({ maxBatchSize: 2 });
    expect(batcher.estimateCompletion(1)).toBeUndefined();
    void batcher.submit("a");
    void batcher.submit("b");
    await settle();
    expect(batcher.estimateCompletion(5)).toBeUndefined();
  });

  it("says an idle batcher has no backlog, and times new items by the recent throughput", async () => {
    const setup = manualBatcher({ maxBatchSize: 2 });
    // Two items in 10 ms of prepare + 30 ms of execute: 0.05 items per ms.
    await runOneBatch(setup, ["a", "b"], 10, 30);
    expect(setup.batcher.estimateCompletion(4)).toEqual({ backlogItems: 0, backlogMs: 0, doneInMs: 80 });
  });

  it("counts every item ahead: queued, preparing, prepared and executing", async () => {
    const setup = manualBatcher({ maxBatchSize: 2, maxWaitMs: 1_000 });
    await runOneBatch(setup, ["a", "b"], 10, 30); // 0.05 items per ms
    const { batcher, prepares } = setup;
    for (const item of ["c", "d", "e", "f", "g", "h", "i"]) void batcher.submit(item);
    await settle();
    prepares.at(-1)?.resolve(); // c, d execute; e, f prepare; g, h, i stay queued
    await settle();
    expect(batcher.stats()).toMatchObject({ executing: 1, preparing: 1, queueDepth: 3 });
    // 2 executing + 2 preparing + 3 queued ahead, then 1 more: 8 items at 20 ms each.
    expect(batcher.estimateCompletion(1)).toEqual({ backlogItems: 7, backlogMs: 140, doneInMs: 160 });
  });

  it("while the pipeline is busy, times batches by the gap between completions (the slowest stage)", async () => {
    const { batcher, prepares, executes } = manualBatcher({ maxBatchSize: 2, maxWaitMs: 10 });
    for (const item of ["a", "b", "c", "d"]) void batcher.submit(item);
    await settle();
    await vi.advanceTimersByTimeAsync(10);
    prepares[0]?.resolve(); // batch 1 executes, batch 2 prepares meanwhile
    await settle();
    await vi.advanceTimersByTimeAsync(10);
    prepares[1]?.resolve();
    await settle();
    await vi.advanceTimersByTimeAsync(90);
    executes[0]?.resolve(undefined); // batch 1: 110 ms from its flush
    await settle();
    await vi.advanceTimersByTimeAsync(100);
    executes[1]?.resolve(undefined); // batch 2: 100 ms after batch 1, its prepare hidden behind it
    await settle();
    // 4 items in 210 ms of output time: batch 2's prepare hid behind batch 1's execute.
    expect(batcher.estimateCompletion(21)?.doneInMs).toBeCloseTo(1_102.5, 6);
  });

  it("does not count time spent waiting for company as service time", async () => {
    const setup = manualBatcher({ maxBatchSize: 4, maxWaitMs: 500 });
    const { batcher, prepares, executes } = setup;
    const result = track(batcher.submit("a"));
    await vi.advanceTimersByTimeAsync(500); // the lone item waited 500 ms, then flushed
    await vi.advanceTimersByTimeAsync(5);
    prepares[0]?.resolve();
    await settle();
    await vi.advanceTimersByTimeAsync(15);
    executes[0]?.resolve(undefined);
    await settle();
    expect(result.status).toBe("fulfilled");
    expect(batcher.estimateCompletion(1)).toEqual({ backlogItems: 0, backlogMs: 0, doneInMs: 20 });
  });

  it("follows the recent batches, forgetting old ones", async () => {
    const setup = manualBatcher({ maxBatchSize: 1, maxWaitMs: 0 });
    await runOneBatch(setup, ["slow"], 0, 1_000);
    for (let i = 0; i < 8; i++) await runOneBatch(setup, [`fast${i}`], 0, 10);
    expect(setup.batcher.estimateCompletion(1)?.doneInMs).toBe(10);
  });
});
