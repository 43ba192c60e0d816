import { describe, expect, it } from "vitest";
import { EventLoopLag } from "./event-loop-lag.ts";

/** A lag meter on a clock the test moves: each turn of the "event loop" takes `turnMs()`. */
function meter(turnMs: () => number) {
  let now = 0;
  const lag = new EventLoopLag({
    now: () => now,
    turn: async () => {
      now += turnMs();
    },
  });
  const idle = (ms: number) => {
    now += ms;
  };
  return { lag, idle };
}

describe("EventLoopLag", () => {
  it("averages recent turns, so one slow turn does not stand for the whole", async () => {
    let turn = 10;
    const { lag } = meter(() => turn);
    for (let i = 0; i < 50; i++) await lag.measure();
    expect(lag.averageMs).toBeCloseTo(10, 0);
    turn = 3_000;
    expect(await lag.measure()).toBe(3_000);
    expect(lag.averageMs).toBeLessThan(500);
    for (let i = 0; i < 30; i++) await lag.measure();
    expect(lag.averageMs).toBeGreaterThan(2_000);
  });

  it("counts a turn longer than the staleness bound as fresh, and after a quiet spell starts from nothing", async () => {
    let turn = 6_000; // saturated beyond 5 s a turn: the worst case must not read as no lag at all
    const { lag, idle } = meter(() => turn);
    for (let i = 0; i < 30; i++) await lag.measure();
    expect(lag.averageMs).toBeGreaterThan(5_000);
    idle(60_000);
    expect(lag.averageMs).toBe(0);
    turn = 3_000; // one slow first turn after the pause (a cold isolate building its services)
    await lag.measure();
    expect(lag.averageMs).toBeLessThan(500);
  });
});
