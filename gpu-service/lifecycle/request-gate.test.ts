import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type DrainReport, RequestGate } from "./request-gate.ts";

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** The drain's report once it resolved, undefined while it is pending. */
function watch(drain: Promise<DrainReport>): { report: DrainReport | undefined } {
  const state: { report: DrainReport | undefined } = { report: undefined };
  void drain.then((report) => {
    state.report = report;
  });
  return state;
}

describe("RequestGate", () => {
  it("admits every request until the drain begins, and none after", () => {
    const gate = new RequestGate();
    const first = gate.admit();
    expect(first).toBeDefined();
    expect(gate.inFlight).toBe(1);
    void gate.drain(1_000);
    expect(gate.draining).toBe(true);
    expect(gate.admit()).toBeUndefined();
    expect(gate.inFlight).toBe(1);
  });

  it("stamps each admission with its arrival time on the gate's clock", () => {
    let now = 100;
    const gate = new RequestGate(() => now);
    now = 250;
    expect(gate.admit()?.arrivedAt).toBe(250);
  });

  it("resolves once the last admitted request is done, cutting nothing", async () => {
    const gate = new RequestGate();
    const [a, b] = [gate.admit(), gate.admit()];
    await vi.advanceTimersByTimeAsync(10);
    const drained = watch(gate.drain(1_000));
    expect(gate.drain(5)).toBe(gate.drain(1)); // idempotent: the first drain
    a?.done();
    a?.done(); // idempotent
    await vi.advanceTimersByTimeAsync(300);
    expect(drained.report).toBeUndefined();
    b?.done();
    await vi.advanceTimersByTimeAsync(0);
    expect(drained.report).toEqual({ inFlight: 2, finished: 2, cut: 0, durationMs: 300 });
    expect([a?.cut.aborted, b?.cut.aborted]).toEqual([false, false]);
  });

  it("drains an idle gate at once", async () => {
    const gate = new RequestGate();
    gate.admit()?.done();
    await expect(gate.drain(30_000)).resolves.toEqual({ inFlight: 0, finished: 0, cut: 0, durationMs: 0 });
  });

  it("at the timeout, cuts only the requests still open and waits for their answers to leave", async () => {
    const gate = new RequestGate();
    const finishing = gate.admit();
    const stuck = gate.admit();
    const drained = watch(gate.drain(500));
    finishing?.done();
    await vi.advanceTimersByTimeAsync(499);
    expect(stuck?.cut.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(stuck?.cut.aborted).toBe(true);
    expect(String(stuck?.cut.reason)).toMatch(/drain timeout \(500 ms\)/);
    expect(finishing?.cut.aborted).toBe(false);
    expect(drained.report).toBeUndefined(); // its 503 has not left yet
    stuck?.done();
    await vi.advanceTimersByTimeAsync(0);
    expect(drained.report).toEqual({ inFlight: 2, finished: 1, cut: 1, durationMs: 500 });
  });

  it("gives up on an answer that never leaves, a second after the cut", async () => {
    const gate = new RequestGate();
    gate.admit(); // never done: a client that stopped reading
    const drained = watch(gate.drain(100));
    await vi.advanceTimersByTimeAsync(1_099);
    expect(drained.report).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(drained.report).toMatchObject({ inFlight: 1, finished: 0, cut: 1 });
    expect(vi.getTimerCount()).toBe(0);
  });
});
