import { setTimeout as sleep } from "node:timers/promises";
import { type ArrivalProcess, arrivalTimes } from "./arrivals.ts";
import { type Starter, startRequest } from "./client.ts";
import { percentile } from "./stats.ts";

export interface OpenLoop extends Starter {
  ratePerSecond: number;
  process: ArrivalProcess;
  /** Run clock (ms) when arrivals start, and how long they go on. */
  startMs: number;
  durationMs: number;
  /** Requests in flight at once (retries and their waits included); an arrival beyond it waits for a slot. */
  maxInFlight: number;
  /** Draws the arrival gaps (poisson): from the run's seed. */
  arrivalRng: Starter["rng"];
}

export interface OpenLoopStats {
  ratePerSecond: number;
  process: ArrivalProcess;
  maxInFlight: number;
  /** Arrivals the schedule held, and how many were started. */
  scheduled: number;
  started: number;
  /** Arrivals that found `maxInFlight` requests in flight and waited for a slot; the longest wait. */
  blocked: number;
  blockedMaxMs: number;
  /** Arrivals still waiting for a slot when the stage ended: never sent. */
  unsent: number;
  peakInFlight: number;
  /** How late arrivals started against their schedule (timers, a busy event loop, a blocked slot). */
  startLagP95Ms?: number;
  startLagMaxMs?: number;
}

/**
 * Open-loop load: requests start on the arrival schedule whatever the answers do, each with its own retries; at most
 * `maxInFlight` at once, so an arrival that finds them all busy waits (counted) — one that cannot start before the
 * stage ends is not sent (counted too). Resolves once every started request has its final answer.
 *
 * @example const stats = await openLoop({ ...starter, ratePerSecond: 40, process: "poisson", startMs: 0, durationMs: 60_000, maxInFlight: 512, arrivalRng })
 */
export async function openLoop(loop: OpenLoop): Promise<OpenLoopStats> {
  const inFlight = new Set<Promise<void>>();
  const lags: number[] = [];
  const stats: OpenLoopStats = {
    ratePerSecond: loop.ratePerSecond,
    process: loop.process,
    maxInFlight: loop.maxInFlight,
    scheduled: 0,
    started: 0,
    blocked: 0,
    blockedMaxMs: 0,
    unsent: 0,
    peakInFlight: 0,
  };
  const endMs = loop.startMs + loop.durationMs;
  let freed = () => {};
  const slotFreed = () => new Promise<void>((resolve) => (freed = resolve));
  let over = false;
  for (const offset of arrivalTimes(loop.ratePerSecond, loop.durationMs, loop.process, loop.arrivalRng)) {
    stats.scheduled++;
    // Once the stage is over, or an arrival could not get a slot in time, the rest of the schedule is only counted.
    if (over || loop.stop.aborted) {
      stats.unsent++;
      continue;
    }
    const at = loop.startMs + offset;
    const wait = at - loop.target.clock();
    if (wait > 0 && (await sleep(wait, false, { signal: loop.stop }).catch(() => true))) {
      stats.unsent++;
      continue;
    }
    if (inFlight.size >= loop.maxInFlight) {
      stats.blocked++;
      const blockedAt = loop.target.clock();
      while (inFlight.size >= loop.maxInFlight && loop.target.clock() < endMs && !loop.stop.aborted) {
        const timer = new AbortController();
        const untilEnd = sleep(Math.max(1, endMs - loop.target.clock()), undefined, {
          signal: AbortSignal.any([timer.signal, loop.stop]),
        }).catch(() => {});
        await Promise.race([slotFreed(), untilEnd]);
        timer.abort();
      }
      stats.blockedMaxMs = Math.max(stats.blockedMaxMs, loop.target.clock() - blockedAt);
      if (inFlight.size >= loop.maxInFlight || loop.stop.aborted) {
        over = true;
        stats.unsent++;
        continue;
      }
    }
    lags.push(loop.target.clock() - at);
    const seq = stats.started++;
    const request: Promise<void> = startRequest(loop, -1, seq).finally(function settled() {
      inFlight.delete(request);
      freed();
    });
    inFlight.add(request);
    stats.peakInFlight = Math.max(stats.peakInFlight, inFlight.size);
  }
  await Promise.all(inFlight);
  lags.sort((a, b) => a - b);
  return { ...stats, startLagP95Ms: percentile(lags, 95), startLagMaxMs: lags.at(-1) };
}
