import type { FaultKind, MixEntry, RateOption } from "./args.ts";
import type { ArrivalProcess } from "./arrivals.ts";
import type { BadSummary } from "./bad-judge.ts";
import type { DeadlineSummary } from "./deadline.ts";
import type { FaultTimeline, StackState } from "./fault.ts";
import type { FaultRun } from "./fault-schedule.ts";
import type { StageBreakdown } from "./gpu-metrics.ts";
import type { LoadSummary } from "./load.ts";
import type { Reconciliation } from "./reconcile.ts";
import type { TimeSplit, TrafficSummary } from "./stats.ts";
import type { LogicalRequest } from "./types.ts";

/** Everything a soak run found: what the report prints and what `--json` writes. */
export interface SoakResult {
  ok: boolean;
  /** Why the run fails; empty when it passes. */
  failures: string[];
  startedAt: string;
  settings: {
    url: string;
    clients: number;
    seconds: number;
    mix: MixEntry[];
    retries: number;
    timeoutSeconds: number;
    plan: string;
    seed: number;
    fault?: FaultKind;
    rate?: RateOption;
    arrivals: ArrivalProcess;
    maxInFlight: number;
    deadlineMs: number;
  };
  key: { id: string; account: string };
  /** The measured run (a calibration's requests are billed and reconciled, but not in here). */
  traffic: TrafficSummary;
  load: LoadSummary;
  /** Every attempt of the run, calibration included. */
  deadline: DeadlineSummary;
  /** How late the harness's own timers ran (every latency includes this much of the harness's own delay). */
  harness: { eventLoopDelayMs: { p50: number; p99: number; max: number } };
  /** When the mix named `bad`. */
  bad?: BadSummary;
  fault?: FaultRun & {
    timeline: FaultTimeline;
    stateBefore?: StackState;
    stateAfter?: StackState;
  };
  gpu: { url: string; note?: string; breakdown?: StageBreakdown; split?: TimeSplit };
  reconciliation: Reconciliation;
  settle: {
    meter: { reads: number; how: string; waitedMs: number };
    export: { reads: number; how: string; waitedMs: number; pages: number };
  };
}

/**
 * Why a run fails: billing that does not reconcile; any 5xx but 503 and 504; an error that is not problem+json
 * with a code, or a 2xx without usage; a stack trace or file path in an error body; any 4xx but 429 and 409 in
 * progress on a valid request; a bad-input request not answered as its case expects (bad-judge.ts); an answer later
 * than the deadline + 1 s + its upload; a failure that took 30 s; no 2xx at all; an export that never settled; a
 * fault asked for and not injected. Empty when the run passes.
 */
export function failuresOf(
  result: Pick<SoakResult, "reconciliation" | "traffic" | "settle" | "fault"> &
    Partial<Pick<SoakResult, "deadline" | "bad">>,
  requests: readonly LogicalRequest[],
): string[] {
  const failures: string[] = [];
  if (!result.reconciliation.ok) failures.push("billing does not reconcile (see the differences above)");
  const counts = new Map<string, number>();
  const note = (what: string) => counts.set(what, (counts.get(what) ?? 0) + 1);
  for (const request of requests)
    for (const attempt of request.attempts) {
      const status = attempt.status;
      if (attempt.malformed) note(`malformed answer: ${attempt.malformed}`);
      if (attempt.leak) note("a stack trace or file path in an error body");
      // Bad-input requests are judged case by case below, their 4xx expected and their 503s allowed or not.
      if (request.bad) continue;
      if (status !== undefined && status >= 500 && status !== 503 && status !== 504)
        note(`${status} ${attempt.code ?? ""}`.trim());
      // The workload only sends valid requests: any other 4xx is a bug on one side or the other.
      if (
        status !== undefined &&
        status >= 400 &&
        status < 500 &&
        status !== 429 &&
        !(status === 409 && attempt.code === "idempotency_in_progress")
      )
        note(`unexpected ${status} ${attempt.code ?? ""}`.trim());
    }
  for (const [what, n] of counts) failures.push(`${n} × ${what}`);
  for (const c of result.bad?.cases ?? [])
    if (c.failed)
      failures.push(`bad input "${c.id}": ${c.failed} of ${c.sent} wrong (${c.problems.join("; ")})`);
  const deadline = result.deadline;
  if (deadline?.late.count)
    failures.push(
      `${deadline.late.count} answer(s) later than the deadline + ${deadline.graceMs} ms + upload ` +
        `(latest ${Math.round(deadline.late.maxMs ?? 0)} ms)`,
    );
  if (deadline?.waitedToFail.count)
    failures.push(`${deadline.waitedToFail.count} attempt(s) waited 30 s or more to fail`);
  if (result.traffic.throughput.okPerSecond === 0) failures.push("no request was answered 2xx");
  if (result.settle.export.how === "deadline") failures.push("the billing export did not settle in time");
  if (result.fault?.refused) failures.push(`the fault was not injected: ${result.fault.refused}`);
  return failures;
}
