import { describe, expect, it } from "vitest";
import { TensorPool } from "./tensor-pool.ts";

describe("TensorPool", () => {
  it("hands back the same shared buffer once a batch is done with it, viewed at the new batch's size", () => {
    const pool = new TensorPool(1000, 2);
    const first = pool.take(600);
    expect(first.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(first.length).toBe(600);
    pool.give(first);
    const second = pool.take(900);
    expect(second.buffer).toBe(first.buffer);
    expect(second.length).toBe(900);
  });

  it("never hands one buffer to two batches at once", () => {
    const pool = new TensorPool(100, 4);
    const a = pool.take(100);
    const b = pool.take(100);
    expect(b.buffer).not.toBe(a.buffer);
    pool.give(a);
    pool.give(a);
    expect(pool.idle).toBe(1);
    expect(pool.take(10).buffer).toBe(a.buffer);
    expect(pool.take(10).buffer).not.toBe(a.buffer);
  });

  it("keeps at most `keep` buffers, and never keeps an oversized one-off or a foreign tensor", () => {
    const pool = new TensorPool(100, 2);
    const taken = [pool.take(100), pool.take(100), pool.take(100)];
    for (const t of taken) pool.give(t);
    expect(pool.idle).toBe(2);
    const big = pool.take(101);
    expect(big.length).toBe(101);
    pool.give(big);
    pool.give(new Float32Array(100));
    expect(pool.idle).toBe(2);
  });
});
