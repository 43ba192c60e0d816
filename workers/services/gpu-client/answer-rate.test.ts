import { describe, expect, it } from "vitest";
import { AnswerRate } from "./answer-rate.ts";

describe("AnswerRate", () => {
  it("has no estimate without enough recent answers", () => {
    const rate = new AnswerRate({ minSamples: 4 });
    for (const t of [0, 100, 200]) rate.answered(t);
    expect(rate.expectedWaitMs(200, 50)).toBeUndefined();
  });

  it("estimates a new call's wait by Little's law: (in flight + 1) / answers per ms", () => {
    const rate = new AnswerRate({ minSamples: 4, windowMs: 10_000 });
    for (let t = 0; t <= 1_000; t += 100) rate.answered(t); // 11 answers over 1 s
    expect(rate.expectedWaitMs(1_000, 21)).toBeCloseTo((22 * 1_000) / 11, 6);
  });

  it("forgets answers older than its window", () => {
    const rate = new AnswerRate({ minSamples: 4, windowMs: 1_000 });
    for (let t = 0; t < 10; t++) rate.answered(t);
    expect(rate.expectedWaitMs(5_000, 3)).toBeUndefined();
  });
});
