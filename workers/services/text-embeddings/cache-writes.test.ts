import { describe, expect, it } from "vitest";
import { CacheWrites } from "./cache-writes.ts";

/** A write the test completes by hand, recording how many writes run at once. */
function gatedWrites() {
  let running = 0;
  let most = 0;
  const gates: (() => void)[] = [];
  const write =
    (fails = false) =>
    () =>
      new Promise<void>((resolve, reject) => {
        running++;
        most = Math.max(most, running);
        gates.push(() => {
          running--;
          if (fails) reject(new Error("KV is down"));
          else resolve();
        });
      });
  const openAll = async () => {
    while (gates.length > 0) {
      for (const open of gates.splice(0)) open();
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
  };
  return { write, openAll, most: () => most, running: () => running };
}

describe("CacheWrites", () => {
  it("holds writes until started, then runs at most five at a time, a failing write stopping none", async () => {
    const gated = gatedWrites();
    const writes = new CacheWrites(100, () => {});
    for (let i = 0; i < 12; i++) expect(writes.add(gated.write(i === 3))).toBe(true);
    expect(gated.running()).toBe(0);
    const done = writes.start();
    expect(gated.running()).toBe(5);
    await gated.openAll();
    await done;
    expect(gated.most()).toBe(5);
    expect(gated.running()).toBe(0);
  });

  it("runs writes that arrive after the start in the same five lanes, kept alive", async () => {
    const gated = gatedWrites();
    const kept: Promise<unknown>[] = [];
    const writes = new CacheWrites(100, (p) => void kept.push(p));
    await writes.start(); // nothing queued yet: the request answered before its computation ended
    for (let i = 0; i < 12; i++) writes.add(gated.write());
    expect(gated.running()).toBe(5);
    await gated.openAll();
    await Promise.all(kept);
    expect(gated.most()).toBe(5);
    expect(gated.running()).toBe(0);
  });

  it("refuses writes past its share and runs a write added after the start at once, kept alive", async () => {
    const kept: Promise<unknown>[] = [];
    let ran = 0;
    const writes = new CacheWrites(2, (p) => void kept.push(p));
    const write = async () => {
      ran++;
    };
    expect([writes.add(write), writes.add(write), writes.add(write)]).toEqual([true, true, false]);
    expect(writes.skipped).toBe(1);
    await writes.start();
    expect(ran).toBe(2);
    const late = new CacheWrites(5, (p) => void kept.push(p));
    await late.start();
    late.add(write);
    await Promise.all(kept);
    expect(ran).toBe(3);
  });
});
