import { describe, expect, it } from "vitest";
import { createRng } from "../../shapes-world/prng.ts";
import { arrivalTimes } from "./arrivals.ts";

describe("open-loop arrival times", () => {
  it("are exactly 1/rate apart when even, from 0 up to (not including) the end", () => {
    expect([...arrivalTimes(4, 1000, "even", createRng(1))]).toEqual([0, 250, 500, 750]);
    expect([...arrivalTimes(2.5, 2000, "even", createRng(1))]).toEqual([0, 400, 800, 1200, 1600]);
  });

  it("are none for no rate or no time", () => {
    expect([...arrivalTimes(0, 1000, "even", createRng(1))]).toEqual([]);
    expect([...arrivalTimes(10, 0, "poisson", createRng(1))]).toEqual([]);
  });

  it("follow a Poisson process from the seed: about rate × duration, increasing, repeatable", () => {
    const times = [...arrivalTimes(50, 60_000, "poisson", createRng(42))];
    // Expected 3,000; a Poisson count's standard deviation is √3000 ≈ 55, so ±250 is over 4.5 σ.
    expect(times.length).toBeGreaterThan(2_750);
    expect(times.length).toBeLessThan(3_250);
    expect(times.every((t, i) => t >= 0 && t < 60_000 && (i === 0 || t > (times[i - 1] as number)))).toBe(
      true,
    );
    expect([...arrivalTimes(50, 60_000, "poisson", createRng(42))]).toEqual(times);
    expect([...arrivalTimes(50, 60_000, "poisson", createRng(43))]).not.toEqual(times);
  });

  it("draws exponential gaps: their mean is 1/rate and about 37% exceed it", () => {
    const times = [...arrivalTimes(20, 600_000, "poisson", createRng(7))];
    const gaps = times.slice(1).map((t, i) => t - (times[i] as number));
    const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
    expect(mean).toBeGreaterThan(47.5);
    expect(mean).toBeLessThan(52.5);
    // P(gap > mean) = e^-1 ≈ 0.368 for exponential gaps; evenly spaced ones would give 0 or 1.
    const longer = gaps.filter((g) => g > 50).length / gaps.length;
    expect(longer).toBeGreaterThan(0.34);
    expect(longer).toBeLessThan(0.4);
  });
});
