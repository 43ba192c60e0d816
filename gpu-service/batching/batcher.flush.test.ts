import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { instantBatcher, settle, track } from "../../test/support/batchers.ts";
import { Batcher } from "./batcher.ts";

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("Batcher flushing", () => {
  it("flushes as soon as maxBatchSize items wait, without waiting for the timer", async () => {
    const { batcher, batches } = instantBatcher({ maxBatchSize: 3, maxWaitMs: 1_000 });
    const results = [1, 2, 3].map((n) => batcher.submit(n));
    await settle();
    expect(batches).toEqual([[1, 2, 3]]);
    expect(await Promise.all(results)).toEqual([3, 5, 7]);
  });

  it("flushes a partial batch maxWaitMs after the first item arrived", async () => {
    const { batcher, batches } = instantBatcher({ maxBatchSize: 8, maxWaitMs: 1_000 });
    const first = track(batcher.submit(1));
    await vi.advanceTimersByTimeAsync(600);
    const second = track(batcher.submit(2));
    await vi.advanceTimersByTimeAsync(399);
    expect(batches).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(batches).toEqual([[1, 2]]);
    expect([first.value, second.value]).toEqual([3, 5]);
  });

  it("restarts the wait for leftovers from their own arrival time", async () => {
    const { batcher, batches } = instantBatcher({ maxBatchSize: 2, maxWaitMs: 100 });
    void batcher.submit(1);
    await vi.advanceTimersByTimeAsync(30);
    void batcher.submit(2); // fills batch 1
    void batcher.submit(3); // arrives at t=30, so due at t=130
    await settle();
    expect(batches).toEqual([[1, 2]]);
    await vi.advanceTimersByTimeAsync(99);
    expect(batches).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(batches).toEqual([[1, 2], [3]]);
  });

  it("still flushes when the wait ends between its check and the timer's arming (a lone item never strands)", async () => {
    // The clock the batcher reads, with the moments a pump looks at it scripted: the wait is not over when the flush
    // is considered, and over a microsecond later when the timer is armed.
    let clock = 0;
    const script: number[] = [];
    const { batcher, batches } = instantBatcher({
      maxBatchSize: 8,
      maxWaitMs: 5,
      now: () => script.shift() ?? clock,
    });
    const lone = track(batcher.submit(1)); // arrives at 0, due at 5
    script.push(4.9999, 5.0001);
    await vi.advanceTimersByTimeAsync(5); // the timer's pump reads both scripted moments
    clock = 6;
    await vi.advanceTimersByTimeAsync(5);
    expect(batches).toEqual([[1]]);
    expect(lone).toEqual({ status: "fulfilled", value: 3 });
  });

  it("splits a burst into batches of at most maxBatchSize, in arrival order", async () => {
    const { batcher, batches } = instantBatcher({ maxBatchSize: 4, maxWaitMs: 5 });
    const results = Array.from({ length: 10 }, (_, n) => batcher.submit(n));
    await vi.advanceTimersByTimeAsync(5);
    expect(batches).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6, 7],
      [8, 9],
    ]);
    expect(await Promise.all(results)).toEqual(Array.from({ length: 10 }, (_, n) => n * 2 + 1));
  });

  it("with maxWaitMs 0 sends work immediately and batches only what queued up meanwhile", async () => {
    const { batcher, batches } = instantBatcher({ maxBatchSize: 8, maxWaitMs: 0 });
    const all = [1, 2, 3].map((n) => batcher.submit(n));
    await Promise.all(all);
    // Item 1 left at once; 2 and 3 waited only for the pipeline slot that batch 1 held.
    expect(batches).toEqual([[1], [2, 3]]);
  });

  it("reports why and how long each batch waited", async () => {
    const { batcher, events } = instantBatcher({ maxBatchSize: 2, maxWaitMs: 50 });
    void batcher.submit(1);
    await vi.advanceTimersByTimeAsync(20);
    void batcher.submit(2);
    void batcher.submit(3);
    await vi.advanceTimersByTimeAsync(50);
    const flushed = events.filter((event) => event.type === "batch_flushed");
    expect(flushed).toEqual([
      { type: "batch_flushed", batch: 1, size: 2, reason: "size", waitsMs: [20, 0] },
      { type: "batch_flushed", batch: 2, size: 1, reason: "timeout", waitsMs: [50] },
    ]);
    const depths = events.filter((event) => event.type === "queue_depth").map((event) => event.depth);
    expect(depths).toEqual([1, 2, 0, 1, 0]);
  });

  it("rejects nonsensical options at construction", () => {
    const stages = { prepare: () => [], execute: async () => [] };
    expect(() => new Batcher({ ...stages, maxBatchSize: 0, maxWaitMs: 1, maxQueue: 1 })).toThrow(RangeError);
    expect(() => new Batcher({ ...stages, maxBatchSize: 1, maxWaitMs: -1, maxQueue: 1 })).toThrow(RangeError);
    expect(() => new Batcher({ ...stages, maxBatchSize: 1, maxWaitMs: 1, maxQueue: 1.5 })).toThrow(
      RangeError,
    );
    expect(
      () => new Batcher({ ...stages, maxBatchSize: 1, maxWaitMs: 1, maxQueue: 1, maxPreparedAhead: 0 }),
    ).toThrow(RangeError);
  });
});
