import type { Rng } from "../../shapes-world/prng.ts";

/**
 * How open-loop requests arrive: `poisson` (the default) draws exponential gaps from the run's seed, as
 * independent users do; `even` spaces them exactly 1/rate apart.
 */
export type ArrivalProcess = "poisson" | "even";

/**
 * Arrival times (ms from the stage's start) at `ratePerSecond` until `durationMs`, in order. Pure given the rng:
 * the same seed gives the same schedule. Bounded: at most `ratePerSecond × durationMs / 1000` even arrivals, and
 * for poisson the same on average (each gap is > 0).
 *
 * @example [...arrivalTimes(4, 1000, "even", rng)] // [0, 250, 500, 750]
 */
export function* arrivalTimes(
  ratePerSecond: number,
  durationMs: number,
  process: ArrivalProcess,
  rng: Rng,
): Generator<number> {
  if (!(ratePerSecond > 0)) return;
  const meanGapMs = 1000 / ratePerSecond;
  if (process === "even") {
    for (let k = 0; k * meanGapMs < durationMs; k++) yield k * meanGapMs;
    return;
  }
  // Exponential gaps: -ln(U) × mean, U in (0, 1] so no gap is infinite.
  for (
    let at = -Math.log(1 - rng.next()) * meanGapMs;
    at < durationMs;
    at += -Math.log(1 - rng.next()) * meanGapMs
  )
    yield at;
}
