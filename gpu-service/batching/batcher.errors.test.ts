import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { instantBatcher, manualBatcher, ok, settle, track } from "../../test/support/batchers.ts";
import { BatchContractError, BatcherClosedError, QueueFullError } from "./errors.ts";

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("Batcher errors", () => {
  it("fails only the items whose outcome is an error", async () => {
    const corrupt = new Error("invalid_image");
    const { batcher } = instantBatcher({
      maxBatchSize: 3,
      execute: async (prepared) =>
        prepared.map((value) => (value === 4 ? { ok: false, error: corrupt } : ok(value))),
    });
    const [a, b, c] = [1, 2, 3].map((n) => track(batcher.submit(n)));
    await settle();
    expect([a?.status, b?.status, c?.status]).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(b?.error).toBe(corrupt);
    expect([a?.value, c?.value]).toEqual([2, 6]);
  });

  it("fans a thrown execute error out to every item of that batch only", async () => {
    const boom = new Error("CUDA out of memory");
    let calls = 0;
    const { batcher } = instantBatcher({
      maxBatchSize: 2,
      execute: async (prepared) => {
        if (++calls === 1) throw boom;
        return prepared.map(ok);
      },
    });
    const first = [1, 2].map((n) => track(batcher.submit(n)));
    const second = [3, 4].map((n) => track(batcher.submit(n)));
    await settle();
    expect(first.map((s) => s.error)).toEqual([boom, boom]);
    expect(second.map((s) => s.value)).toEqual([6, 8]);
  });

  it("fans a thrown prepare error out and never executes that batch", async () => {
    const bad = new TypeError("decoder crashed");
    const execute = vi.fn(async (prepared: number[]) => prepared.map(ok));
    const { batcher, events } = instantBatcher({
      maxBatchSize: 2,
      prepare: () => {
        throw bad;
      },
      execute,
    });
    const results = [1, 2].map((n) => track(batcher.submit(n)));
    await settle();
    expect(results.map((s) => s.error)).toEqual([bad, bad]);
    expect(execute).not.toHaveBeenCalled();
    expect(events).toContainEqual(expect.objectContaining({ type: "prepared", ok: false, size: 2 }));
  });

  it("fails the whole batch with BatchContractError when execute returns the wrong number of outcomes", async () => {
    const { batcher } = instantBatcher({ maxBatchSize: 2, execute: async () => [ok(1)] });
    const results = [1, 2].map((n) => track(batcher.submit(n)));
    await settle();
    for (const result of results) {
      expect(result.error).toBeInstanceOf(BatchContractError);
      expect((result.error as BatchContractError).message).toBe("execute returned 1 outcomes for 2 items");
    }
  });

  it("rejects at once with QueueFullError when maxQueue items already wait", async () => {
    const { batcher, prepares } = manualBatcher({ maxBatchSize: 1, maxQueue: 2 });
    void batcher.submit("in-prepare"); // leaves the queue immediately
    await settle();
    expect(prepares).toHaveLength(1);
    const waiting = [track(batcher.submit("q1")), track(batcher.submit("q2"))];
    const refused = track(batcher.submit("q3"));
    await settle();
    expect(waiting.map((s) => s.status)).toEqual(["pending", "pending"]);
    expect(refused.status).toBe("rejected");
    const error = refused.error as QueueFullError;
    expect(error).toBeInstanceOf(QueueFullError);
    expect(error.code).toBe("queue_full");
    expect(error.maxQueue).toBe(2);
    expect(error.retryAfterMs).toBeGreaterThanOrEqual(10);
  });

  it("bases the Retry-After hint on recent execution time", async () => {
    const { batcher, prepares, executes } = manualBatcher({ maxBatchSize: 1, maxQueue: 1 });
    void batcher.submit("a");
    await settle();
    prepares[0]?.resolve();
    await settle();
    await vi.advanceTimersByTimeAsync(400);
    executes[0]?.resolve(undefined); // one execution took 400 ms
    await settle();
    void batcher.submit("b"); // preparing
    await settle();
    void batcher.submit("c"); // waiting: queue now full
    const refused = track(batcher.submit("d"));
    await settle();
    // One queued batch + one preparing batch ahead, 400 ms each.
    expect((refused.error as QueueFullError).retryAfterMs).toBe(800);
  });

  it("keeps serving when the observer throws", async () => {
    const { batcher } = instantBatcher({
      maxBatchSize: 1,
      observer: () => {
        throw new Error("metrics broke");
      },
    });
    expect(await batcher.submit(1)).toBe(3);
  });

  it("rejects new items with BatcherClosedError once draining", async () => {
    const { batcher, events } = instantBatcher();
    await batcher.drain();
    await expect(batcher.submit(1)).rejects.toBeInstanceOf(BatcherClosedError);
    expect(events.at(-1)).toEqual({ type: "rejected", reason: "batcher_closed" });
  });
});
