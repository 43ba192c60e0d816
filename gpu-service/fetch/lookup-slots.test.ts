import { describe, expect, it } from "vitest";
import { LookupSlotsBusyError, limitLookups } from "./lookup-slots.ts";
import type { ResolveHost } from "./resolve.ts";

/** A resolver whose every look-up waits until the test answers it, like getaddrinfo on a slow name. */
function heldResolver() {
  const pending = new Map<string, () => void>();
  const resolve: ResolveHost = (host) =>
    new Promise((answer) => {
      pending.set(host, () => answer([{ address: "93.184.215.14", family: 4 }]));
    });
  return { resolve, answer: (host: string) => pending.get(host)?.(), started: () => [...pending.keys()] };
}

describe("limitLookups", () => {
  it("runs at most `slots` look-ups at once and starts the next as one ends, in order", async () => {
    const held = heldResolver();
    const limited = limitLookups(held.resolve, 2);
    const a = limited("a.example");
    const b = limited("b.example");
    const c = limited("c.example");
    const d = limited("d.example");
    await Promise.resolve();
    expect(held.started()).toEqual(["a.example", "b.example"]);
    expect([limited.running, limited.waiting]).toEqual([2, 2]);

    held.answer("b.example");
    await b;
    await new Promise((resolve) => setImmediate(resolve));
    expect(held.started()).toEqual(["a.example", "b.example", "c.example"]);
    for (const host of ["a.example", "c.example"]) held.answer(host);
    await Promise.all([a, c]);
    await new Promise((resolve) => setImmediate(resolve));
    held.answer("d.example");
    expect(await d).toEqual([{ address: "93.184.215.14", family: 4 }]);
    expect([limited.running, limited.waiting]).toEqual([0, 0]);
  });

  it("gives up waiting when the signal fires, without taking a slot or starting the look-up", async () => {
    const held = heldResolver();
    const limited = limitLookups(held.resolve, 1);
    const first = limited("slow.example");
    const controller = new AbortController();
    const second = limited("next.example", controller.signal);
    controller.abort();
    await expect(second).rejects.toBeInstanceOf(LookupSlotsBusyError);
    expect([limited.running, limited.waiting]).toEqual([1, 0]);
    await expect(limited("late.example", AbortSignal.abort())).rejects.toBeInstanceOf(LookupSlotsBusyError);
    expect(held.started()).toEqual(["slow.example"]);
    held.answer("slow.example");
    await first;
    expect(limited.running).toBe(0);
  });

  it("frees the slot of a look-up that fails", async () => {
    const limited = limitLookups(async (host) => {
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: "ENOTFOUND" });
    }, 1);
    await expect(limited("nowhere.example")).rejects.toThrow("ENOTFOUND");
    expect(limited.running).toBe(0);
  });

  it("refuses a cap below one", () => {
    expect(() => limitLookups(heldResolver().resolve, 0)).toThrow(RangeError);
  });
});
