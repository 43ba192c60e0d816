import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { manualBatcher, settle, track } from "../../test/support/batchers.ts";

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("Batcher pipeline", () => {
  it("prepares batch n+1 while batch n executes, but never runs two executes at once", async () => {
    const { batcher, log, prepares, executes } = manualBatcher({ maxBatchSize: 2 });
    const results = ["a", "b", "c", "d", "e", "f"].map((item) => track(batcher.submit(item)));
    await settle();
    expect(log).toEqual(["prepare:start:1"]);

    prepares[0]?.resolve();
    await settle();
    // Batch 1 moved to the GPU, which freed the prepare slot for batch 2.
    expect(log).toEqual(["prepare:start:1", "prepare:end:1", "execute:start:1", "prepare:start:2"]);

    prepares[1]?.resolve();
    await settle();
    // Batch 2 is ready but waits for the single execution slot; batch 3 waits in the queue (prepared-ahead = 1).
    expect(log.slice(4)).toEqual(["prepare:end:2"]);
    expect(batcher.stats()).toEqual({
      queueDepth: 2,
      preparing: 0,
      preparedWaiting: 1,
      executing: 1,
      draining: false,
    });

    executes[0]?.resolve(undefined);
    await settle();
    expect(log.slice(5)).toEqual(["execute:end:1", "execute:start:2", "prepare:start:3"]);
    expect(results.slice(0, 2).map((r) => r.value)).toEqual(["A@1", "B@1"]);

    prepares[2]?.resolve();
    executes[1]?.resolve(undefined);
    await settle();
    executes[2]?.resolve(undefined);
    await settle();
    expect(results.map((r) => r.value)).toEqual(["A@1", "B@1", "C@2", "D@2", "E@3", "F@3"]);
  });

  it("runs up to maxConcurrentExecutions executes and prepares up to maxPreparedAhead batches", async () => {
    const { batcher, log, prepares } = manualBatcher({
      maxBatchSize: 1,
      maxConcurrentExecutions: 2,
      maxPreparedAhead: 2,
    });
    for (const item of ["a", "b", "c", "d", "e"]) void batcher.submit(item);
    await settle();
    expect(log).toEqual(["prepare:start:1", "prepare:start:2"]);
    prepares[0]?.resolve();
    prepares[1]?.resolve();
    await settle();
    expect(log.filter((line) => line.startsWith("execute:start"))).toEqual([
      "execute:start:1",
      "execute:start:2",
    ]);
    expect(log.filter((line) => line.startsWith("prepare:start"))).toHaveLength(4);
    expect(batcher.stats()).toMatchObject({ executing: 2, preparing: 2, queueDepth: 1 });
  });

  it("lets a queue that built up behind a busy pipeline leave as one full batch", async () => {
    const { batcher, prepares, executes } = manualBatcher({ maxBatchSize: 4, maxWaitMs: 5 });
    void batcher.submit("a");
    await vi.advanceTimersByTimeAsync(5);
    prepares[0]?.resolve();
    await settle(); // a executes
    void batcher.submit("b");
    await vi.advanceTimersByTimeAsync(5); // b preparing; the prepared-ahead slot is now taken
    for (const item of ["c", "d", "e", "f", "g"]) void batcher.submit(item);
    await vi.advanceTimersByTimeAsync(50); // long past their deadline, but no slot
    expect(prepares.map((p) => p.items)).toEqual([["a"], ["b"]]);

    prepares[1]?.resolve();
    executes[0]?.resolve(undefined);
    await settle();
    expect(prepares.map((p) => p.items)).toEqual([["a"], ["b"], ["c", "d", "e", "f"]]);
    // The leftover waits for its own slot/timer; no timer spins while the pipeline is full.
    expect(vi.getTimerCount()).toBe(0);
  });

  it("drain() flushes queued items without waiting, finishes running work, then resolves", async () => {
    const { batcher, log, prepares, executes } = manualBatcher({ maxBatchSize: 2, maxWaitMs: 60_000 });
    const results = ["a", "b", "c"].map((item) => track(batcher.submit(item)));
    await settle();
    const drained = track(batcher.drain());
    expect(batcher.drain()).toBe(batcher.drain()); // idempotent
    await settle();
    expect(batcher.stats().draining).toBe(true);

    prepares[0]?.resolve();
    await settle();
    // "c" left at once instead of after 60 s.
    expect(prepares.map((p) => p.items)).toEqual([["a", "b"], ["c"]]);
    prepares[1]?.resolve();
    await settle();
    executes[0]?.resolve(undefined);
    await settle();
    expect(drained.status).toBe("pending");
    executes[1]?.resolve(undefined);
    await settle();
    expect(drained.status).toBe("fulfilled");
    expect(results.map((r) => r.value)).toEqual(["A@1", "B@1", "C@2"]);
    expect(log.at(-1)).toBe("execute:end:2");
  });

  it("expedite() lets batches leave without waiting for company, and still takes items", async () => {
    const { batcher, prepares, executes } = manualBatcher({ maxBatchSize: 4, maxWaitMs: 60_000 });
    const early = track(batcher.submit("a"));
    await settle();
    expect(prepares).toHaveLength(0); // waiting for company
    batcher.expedite();
    await settle();
    expect(prepares.map((p) => p.items)).toEqual([["a"]]);
    expect(batcher.stats().draining).toBe(true);

    const late = track(batcher.submit("b")); // accepted, unlike after drain()
    prepares[0]?.resolve();
    await settle();
    expect(prepares.map((p) => p.items)).toEqual([["a"], ["b"]]); // left as soon as the prepare slot freed
    expect(vi.getTimerCount()).toBe(0);
    prepares[1]?.resolve();
    executes[0]?.resolve(undefined);
    await settle();
    executes[1]?.resolve(undefined);
    await settle();
    expect([early.value, late.value]).toEqual(["A@1", "B@2"]);
    await expect(batcher.drain()).resolves.toBeUndefined();
  });

  it("drain() of an idle batcher resolves at once", async () => {
    const { batcher } = manualBatcher();
    await expect(batcher.drain()).resolves.toBeUndefined();
  });

  it("reports stage durations to the observer", async () => {
    const events: unknown[] = [];
    const { batcher, prepares, executes } = manualBatcher({
      maxBatchSize: 1,
      observer: (event) => events.push(event),
    });
    const result = track(batcher.submit("a"));
    await vi.advanceTimersByTimeAsync(7);
    prepares[0]?.resolve();
    await vi.advanceTimersByTimeAsync(30);
    executes[0]?.resolve([{ ok: false, error: new Error("bad") }]);
    await settle();
    expect(events).toContainEqual({ type: "prepared", batch: 1, size: 1, durationMs: 7, ok: true });
    expect(events).toContainEqual({
      type: "executed",
      batch: 1,
      size: 1,
      durationMs: 30,
      ok: true,
      failedItems: 1,
    });
    expect((result.error as Error).message).toBe("bad");
  });
});
