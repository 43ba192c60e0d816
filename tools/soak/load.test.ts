import { describe, expect, it } from "vitest";
import { calibrationOf, loadSummary } from "./load.ts";
import type { OpenLoopStats } from "./open-loop.ts";
import type { LogicalRequest } from "./types.ts";

const request = (...statuses: number[]): LogicalRequest => ({
  client: -1,
  seq: 0,
  route: "classify",
  encoding: "json",
  idempotencyKey: crypto.randomUUID(),
  images: 1,
  attempts: statuses.map((status) => ({
    requestId: "r",
    startMs: 0,
    endMs: 1,
    replayed: false,
    phase: "run",
    status,
  })),
});
const open: OpenLoopStats = {
  ratePerSecond: 40,
  process: "poisson",
  maxInFlight: 512,
  scheduled: 400,
  started: 390,
  blocked: 3,
  blockedMaxMs: 120,
  unsent: 10,
  peakInFlight: 512,
};

describe("offered and served load", () => {
  it("sets the open-loop rate to a multiple of the calibration's 2xx per second", () => {
    const served = Array.from({ length: 200 }, () => request(503, 200));
    const refused = Array.from({ length: 50 }, () => request(503, 503, 503, 503));
    expect(calibrationOf([...served, ...refused], 20, 64, 2)).toEqual({
      clients: 64,
      seconds: 20,
      requests: 250,
      ok: 200,
      servedPerSecond: 10,
      timesServed: 2,
      targetPerSecond: 20,
    });
    expect(calibrationOf([], 0, 4, 2).targetPerSecond).toBe(0);
  });

  it("compares the open loop's arrivals per second with the 2xx per second it got", () => {
    const requests = [
      ...Array.from({ length: 150 }, () => request(200)),
      ...Array.from({ length: 240 }, () => request(503)),
    ];
    expect(loadSummary(requests, 10, undefined, open)).toEqual({
      mode: "open",
      open,
      offeredPerSecond: 40,
      startedPerSecond: 39,
      servedPerSecond: 15,
      servedShare: 0.375,
    });
  });

  it("counts a closed loop's offered load as the requests it started", () => {
    const summary = loadSummary(
      [request(200), request(200), request(429, 200), request(503)],
      2,
      undefined,
      undefined,
    );
    expect(summary).toEqual({
      mode: "closed",
      offeredPerSecond: 2,
      startedPerSecond: 2,
      servedPerSecond: 1.5,
      servedShare: 0.75,
    });
  });
});
