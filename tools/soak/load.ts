import type { OpenLoopStats } from "./open-loop.ts";
import type { LogicalRequest } from "./types.ts";

/** What a closed-loop calibration measured, and the open-loop rate it sets (`--rate Nx`). */
export interface Calibration {
  clients: number;
  /** From its first request to its last answer (the drain after the calibration's end included). */
  seconds: number;
  requests: number;
  ok: number;
  servedPerSecond: number;
  timesServed: number;
  targetPerSecond: number;
}

/** How the run was driven, and offered load against what was served. */
export interface LoadSummary {
  mode: "closed" | "open";
  calibration?: Calibration;
  open?: OpenLoopStats;
  /** Open loop: arrivals per second the schedule held; closed loop: requests started per second. */
  offeredPerSecond: number;
  /** Requests started per second (closed loop: the same as offered). */
  startedPerSecond: number;
  /** Requests answered 2xx per second (each Idempotency-Key once). */
  servedPerSecond: number;
  /** Served ÷ offered. */
  servedShare?: number;
}

// Answered 2xx during the run itself, as the report's throughput counts (not when settled after it).
const served = (r: LogicalRequest) =>
  r.attempts.some((a) => a.phase === "run" && a.status !== undefined && a.status >= 200 && a.status < 300);

/**
 * A calibration's served rate and the rate `timesServed` asks for.
 *
 * @example calibrationOf(requests, 20, 64, 2).targetPerSecond // 2 × 2xx/s over the 20 s
 */
export function calibrationOf(
  requests: readonly LogicalRequest[],
  seconds: number,
  clients: number,
  timesServed: number,
): Calibration {
  const ok = requests.filter(served).length;
  const servedPerSecond = seconds > 0 ? ok / seconds : 0;
  return {
    clients,
    seconds,
    requests: requests.length,
    ok,
    servedPerSecond,
    timesServed,
    targetPerSecond: servedPerSecond * timesServed,
  };
}

/**
 * Offered against served load over the measured run (`seconds`, its drain included).
 *
 * @example loadSummary(requests, 60, undefined, openStats).servedShare // 0.52: half the offered load was served
 */
export function loadSummary(
  requests: readonly LogicalRequest[],
  seconds: number,
  calibration: Calibration | undefined,
  open: OpenLoopStats | undefined,
): LoadSummary {
  const perSecond = (n: number) => (seconds > 0 ? n / seconds : 0);
  // A key-reuse case is two requests (its prelude and itself) for one arrival.
  const startedPerSecond = perSecond(open ? open.started : requests.length);
  const offeredPerSecond = open ? open.ratePerSecond : startedPerSecond;
  const servedPerSecond = perSecond(requests.filter(served).length);
  return {
    mode: open ? "open" : "closed",
    ...(calibration ? { calibration } : {}),
    ...(open ? { open } : {}),
    offeredPerSecond,
    startedPerSecond,
    servedPerSecond,
    servedShare: offeredPerSecond > 0 ? servedPerSecond / offeredPerSecond : undefined,
  };
}
