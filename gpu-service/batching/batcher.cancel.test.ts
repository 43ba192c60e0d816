import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { manualBatcher, settle, track } from "../../test/support/batchers.ts";

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("Batcher cancellation", () => {
  it("removes a queued item: its promise rejects with the abort reason and it never reaches prepare", async () => {
    const { batcher, prepares } = manualBatcher({ maxBatchSize: 3 });
    const controller = new AbortController();
    const kept = track(batcher.submit("a"));
    const cancelled = track(batcher.submit("b", { signal: controller.signal }));
    controller.abort(new Error("client went away"));
    await settle();
    expect(cancelled.status).toBe("rejected");
    expect((cancelled.error as Error).message).toBe("client went away");
    expect(batcher.stats().queueDepth).toBe(1);

    await vi.advanceTimersByTimeAsync(10);
    expect(prepares.map((p) => p.items)).toEqual([["a"]]);
    expect(kept.status).toBe("pending");
  });

  it("rejects immediately for an already-aborted signal without queueing", async () => {
    const { batcher } = manualBatcher();
    const reason = new DOMException("gone", "AbortError");
    await expect(batcher.submit("a", { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect(batcher.stats().queueDepth).toBe(0);
  });

  it("cancelling the only queued item clears the flush timer", async () => {
    const { batcher, prepares } = manualBatcher({ maxBatchSize: 3 });
    const controller = new AbortController();
    void batcher.submit("a", { signal: controller.signal }).catch(() => {});
    controller.abort();
    await vi.advanceTimersByTimeAsync(100);
    expect(prepares).toHaveLength(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("detaches a running item at once and ignores its later result, while the rest of the batch completes", async () => {
    const { batcher, prepares, executes } = manualBatcher({ maxBatchSize: 2 });
    const controller = new AbortController();
    const leaving = track(batcher.submit("a", { signal: controller.signal }));
    const staying = track(batcher.submit("b"));
    await settle();
    prepares[0]?.resolve();
    await settle();
    expect(executes).toHaveLength(1);

    controller.abort("timeout");
    await settle();
    expect(leaving).toMatchObject({ status: "rejected", error: "timeout" });
    expect(staying.status).toBe("pending");

    executes[0]?.resolve(undefined);
    await settle();
    expect(leaving).toMatchObject({ status: "rejected", error: "timeout" });
    expect(staying).toMatchObject({ status: "fulfilled", value: "B@1" });
  });

  it("skips execute when every item of a prepared batch was cancelled", async () => {
    const { batcher, prepares, executes, log } = manualBatcher({ maxBatchSize: 2 });
    const controller = new AbortController();
    const results = ["a", "b"].map((item) => track(batcher.submit(item, { signal: controller.signal })));
    await settle();
    controller.abort();
    prepares[0]?.resolve();
    await settle();
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    expect(executes).toHaveLength(0);
    expect(log).toEqual(["prepare:start:1", "prepare:end:1"]);
    expect(batcher.stats()).toMatchObject({ preparing: 0, preparedWaiting: 0, executing: 0 });
  });

  it("stops listening to a signal once the item settled", async () => {
    const { batcher, prepares, executes } = manualBatcher({ maxBatchSize: 1 });
    const controller = new AbortController();
    const spy = vi.spyOn(controller.signal, "removeEventListener");
    const result = batcher.submit("a", { signal: controller.signal });
    await settle();
    prepares[0]?.resolve();
    await settle();
    executes[0]?.resolve(undefined);
    expect(await result).toBe("A@1");
    expect(spy).toHaveBeenCalledWith("abort", expect.any(Function));
    controller.abort(); // must be a no-op now
  });
});
