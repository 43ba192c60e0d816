import { outcomeOf, percentile } from "./stats.ts";
import type { Attempt, LogicalRequest } from "./types.ts";

/** The edge promises an answer by the deadline; network, the edge's own work and clocks get this much more. */
export const LATE_GRACE_MS = 1_000;
/**
 * The deadline starts once the body has arrived, so an attempt's upload comes on top. Not measured (fetch does not
 * say when its body was sent): allowed for at a pessimistic 10 MiB/s, which loopback far exceeds.
 */
export const UPLOAD_BYTES_PER_MS = (10 * 1024 * 1024) / 1000;
/** A request that waits this long only to fail is what shedding exists to prevent. */
export const WAITED_TO_FAIL_MS = 30_000;
/** How the edge words a request the GPU tier shed (workers/services/gpu-client/gpu-client.ts). */
const SHED_DETAIL = /would miss its deadline/;

/**
 * The latest an attempt's answer may come: deadline + grace + its upload allowance.
 *
 * @example lateThresholdMs({ bodyBytes: 10_485_760 }, 30_000) // 32_000
 */
export function lateThresholdMs(attempt: Pick<Attempt, "bodyBytes">, deadlineMs: number): number {
  return deadlineMs + LATE_GRACE_MS + (attempt.bodyBytes ?? 0) / UPLOAD_BYTES_PER_MS;
}

/**
 * A 503 shed because the request would miss its deadline: by the GPU tier's queue (`gpu_unavailable`, told from
 * "down" or "draining" 503s by the edge's problem detail, the only place that says so) or by the saturated edge
 * itself (`overloaded`, only ever shed).
 *
 * @example isShed({ status: 503, code: "gpu_unavailable", detail: "the GPU tier is overloaded: this request would miss its deadline" }) // true
 */
export function isShed(attempt: Pick<Attempt, "status" | "code" | "detail">): boolean {
  if (attempt.status !== 503) return false;
  return (
    attempt.code === "overloaded" ||
    (attempt.code === "gpu_unavailable" && SHED_DETAIL.test(attempt.detail ?? ""))
  );
}

export interface LatencyCell {
  route: string;
  outcome: string;
  attempts: number;
  p50?: number;
  p95?: number;
  max?: number;
  /** Of these, answered (or given up on) after their late threshold. */
  late: number;
}

export interface LateAttempt {
  requestId: string;
  route: string;
  outcome: string;
  /** Run clock (ms) when it was sent: set against a fault's time, it says what the request ran into. */
  startMs: number;
  latencyMs: number;
  thresholdMs: number;
}

/** How many attempts, the longest, and the ten longest (slowest first). */
export interface SlowAttempts {
  count: number;
  maxMs?: number;
  examples: LateAttempt[];
}

function slowest(attempts: LateAttempt[]): SlowAttempts {
  const sorted = [...attempts].sort((a, b) => b.latencyMs - a.latencyMs);
  return { count: sorted.length, maxMs: sorted[0]?.latencyMs, examples: sorted.slice(0, 10) };
}

export interface DeadlineSummary {
  deadlineMs: number;
  graceMs: number;
  uploadBytesPerMs: number;
  /** Per route and per the attempt's status/code, every attempt but those the harness's hard stop cut. */
  cells: LatencyCell[];
  /** Answers that came after deadline + grace + upload, and client timeouts set longer than that (no answer in time). */
  late: SlowAttempts;
  shed: { count: number; p50?: number; p95?: number; max?: number; byRoute: Record<string, number> };
  /** 5xx answers by their problem detail (digits as N): shed ones told from the rest, and what a 502 was. */
  serverErrorsByDetail: Record<string, number>;
  /** Attempts that ended in a failure (an error answer, a timeout, a dropped connection) after 30 s or more. */
  waitedToFail: SlowAttempts;
}

const isOk = (a: Attempt) => a.status !== undefined && a.status >= 200 && a.status < 300;

/**
 * Deadline accounting over every attempt: latency per route and outcome, late answers, shed answers and how fast
 * they came, and failures that took 30 s. A client timeout counts as late when it was set beyond the threshold
 * (the server did not answer in time); a shorter `--timeout` is the client's own choice and does not.
 *
 * @example summarizeDeadlines(requests, 30_000, 35_000).late.count // 0
 */
export function summarizeDeadlines(
  requests: readonly LogicalRequest[],
  deadlineMs: number,
  timeoutMs: number,
): DeadlineSummary {
  const cells = new Map<string, { route: string; outcome: string; latencies: number[]; late: number }>();
  const late: LateAttempt[] = [];
  const shed: number[] = [];
  const shedByRoute: Record<string, number> = {};
  const byDetail: Record<string, number> = {};
  const failedSlowly: LateAttempt[] = [];
  for (const request of requests)
    for (const attempt of request.attempts) {
      if (attempt.noAnswer === "hard_stop") continue;
      const route = request.route;
      const outcome = outcomeOf(attempt);
      const latencyMs = attempt.endMs - attempt.startMs;
      const key = `${route}\u0000${outcome}`;
      const cell = cells.get(key) ?? { route, outcome, latencies: [], late: 0 };
      cells.set(key, cell);
      cell.latencies.push(latencyMs);
      const thresholdMs = lateThresholdMs(attempt, deadlineMs);
      const isLate = attempt.noAnswer === "timeout" ? timeoutMs > thresholdMs : latencyMs > thresholdMs;
      if (isLate) {
        cell.late++;
        late.push({
          requestId: attempt.requestId,
          route,
          outcome,
          startMs: attempt.startMs,
          latencyMs,
          thresholdMs,
        });
      }
      if (attempt.status !== undefined && attempt.status >= 500) {
        const detail = `${attempt.status} ${(attempt.detail ?? "(no detail)").replace(/\d+/g, "N").slice(0, 100)}`;
        byDetail[detail] = (byDetail[detail] ?? 0) + 1;
      }
      if (isShed(attempt)) {
        shed.push(latencyMs);
        shedByRoute[route] = (shedByRoute[route] ?? 0) + 1;
      }
      if (!isOk(attempt) && latencyMs >= WAITED_TO_FAIL_MS)
        failedSlowly.push({
          requestId: attempt.requestId,
          route,
          outcome,
          startMs: attempt.startMs,
          latencyMs,
          thresholdMs,
        });
    }
  shed.sort((a, b) => a - b);
  return {
    deadlineMs,
    graceMs: LATE_GRACE_MS,
    uploadBytesPerMs: UPLOAD_BYTES_PER_MS,
    cells: [...cells.values()]
      .sort(
        (a, b) =>
          a.route.localeCompare(b.route) || a.outcome.localeCompare(b.outcome, "en", { numeric: true }),
      )
      .map(({ route, outcome, latencies, late: n }) => {
        const sorted = latencies.sort((a, b) => a - b);
        return {
          route,
          outcome,
          attempts: sorted.length,
          p50: percentile(sorted, 50),
          p95: percentile(sorted, 95),
          max: sorted.at(-1),
          late: n,
        };
      }),
    late: slowest(late),
    serverErrorsByDetail: byDetail,
    shed: {
      count: shed.length,
      p50: percentile(shed, 50),
      p95: percentile(shed, 95),
      max: shed.at(-1),
      byRoute: shedByRoute,
    },
    waitedToFail: slowest(failedSlowly),
  };
}
