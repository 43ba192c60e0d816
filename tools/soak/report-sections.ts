import type { LateAttempt } from "./deadline.ts";
import type { SoakResult } from "./result.ts";

/** The report's load, deadline and bad-input sections (report.ts prints the rest). */

const ms = (n?: number) => (n === undefined ? "–" : n < 100 ? n.toFixed(1) : n.toFixed(0));
const int = (n: number) => n.toLocaleString("en-US");
const rate = (n: number) => n.toFixed(1);

export function table(head: string[], rows: (string | number)[][]): string {
  return [head, head.map(() => "---"), ...rows.map((r) => r.map(String))]
    .map((r) => `| ${r.join(" | ")} |`)
    .join("\n");
}

/** Closed or open loop, the calibration, offered against served. */
export function loadLines(result: SoakResult): string[] {
  const { load } = result;
  const lines = [`## Load: ${load.mode} loop`];
  const c = load.calibration;
  if (c)
    lines.push(
      `calibration: ${c.clients} closed-loop clients, ${c.seconds.toFixed(1)} s, ${int(c.requests)} requests, ` +
        `${int(c.ok)} 2xx = ${rate(c.servedPerSecond)} 2xx/s; open loop at ${c.timesServed}× = ${rate(c.targetPerSecond)} requests/s ` +
        "(its requests are billed and reconciled with the run's, not counted in its answers)",
    );
  const o = load.open;
  if (o)
    lines.push(
      `arrivals: ${o.process} at ${rate(o.ratePerSecond)}/s — ${int(o.scheduled)} scheduled, ${int(o.started)} started, ` +
        `${int(o.unsent)} never sent; at most ${int(o.maxInFlight)} in flight (peak ${int(o.peakInFlight)}): ` +
        `${int(o.blocked)} arrival(s) waited for a slot${o.blocked ? ` (longest ${ms(o.blockedMaxMs)} ms)` : ""}; ` +
        `start lag p95 ${ms(o.startLagP95Ms)} ms, max ${ms(o.startLagMaxMs)} ms`,
    );
  lines.push(
    `offered ${rate(load.offeredPerSecond)} requests/s, started ${rate(load.startedPerSecond)}/s, ` +
      `served ${rate(load.servedPerSecond)} 2xx/s` +
      (load.servedShare === undefined ? "" : ` (${(load.servedShare * 100).toFixed(0)}% of offered)`) +
      " — per second of the run, its drain included",
  );
  return lines;
}

/** Latency per route and outcome, late answers, shed answers, slow failures. */
export function deadlineLines(result: SoakResult): string[] {
  const d = result.deadline;
  const lines = [
    `## Deadline: ${int(d.deadlineMs)} ms from the body's arrival (+ ${int(d.graceMs)} ms grace + upload at ` +
      `${((d.uploadBytesPerMs * 1000) / 1024 / 1024).toFixed(0)} MiB/s = the late threshold); client timeout ` +
      `${result.settings.timeoutSeconds} s`,
    table(
      ["route", "attempt outcome", "attempts", "p50 ms", "p95 ms", "max ms", "late"],
      d.cells.map((c) => [c.route, c.outcome, int(c.attempts), ms(c.p50), ms(c.p95), ms(c.max), int(c.late)]),
    ),
    "",
    `late (after the threshold, or a client timeout set beyond it): ${int(d.late.count)}` +
      (d.late.count ? ` (latest ${ms(d.late.maxMs)} ms)` : ""),
    ...d.late.examples.map(lateLine),
    `shed (503 overloaded, or gpu_unavailable "would miss its deadline"): ${int(d.shed.count)}` +
      (d.shed.count
        ? ` — answered in p50 ${ms(d.shed.p50)} / p95 ${ms(d.shed.p95)} / max ${ms(d.shed.max)} ms (` +
          Object.entries(d.shed.byRoute)
            .map(([route, n]) => `${route} ${int(n)}`)
            .join(", ") +
          ")"
        : ""),
    ...Object.entries(d.serverErrorsByDetail).map(([detail, n]) => `  - ${int(n)} × ${detail}`),
    `waited 30 s or more to fail: ${int(d.waitedToFail.count)}` +
      (d.waitedToFail.count ? ` (longest ${ms(d.waitedToFail.maxMs)} ms)` : ""),
    ...d.waitedToFail.examples.map(lateLine),
    `the harness's own event-loop delay (part of every latency above): p50 ${ms(result.harness.eventLoopDelayMs.p50)}, ` +
      `p99 ${ms(result.harness.eventLoopDelayMs.p99)}, max ${ms(result.harness.eventLoopDelayMs.max)} ms`,
  ];
  return lines;
}

function lateLine(l: LateAttempt): string {
  return `  - ${l.requestId} ${l.route} ${l.outcome}, sent at ${(l.startMs / 1000).toFixed(1)} s: ${ms(l.latencyMs)} ms (threshold ${ms(l.thresholdMs)} ms)`;
}

/** The bad-input corpus: its size, what was sent, each case's answers. */
export function badLines(result: SoakResult): string[] {
  const b = result.bad;
  if (!b) return [];
  return [
    `## Bad input: corpus of ${int(b.corpusSize)} cases, ${int(b.casesSent)} sent, ${int(b.requests)} requests, ` +
      `${int(b.failed)} answered wrongly` +
      (b.gpuRetries ? `; ${int(b.gpuRetries)} 503/504 retried on cases that need the GPU tier` : ""),
    `billed bad requests: ${int(result.reconciliation.records.billedBad.length)}`,
    table(
      ["case", "expected", "sent", "final answers", "wrong"],
      b.cases.map((c) => [
        c.id.replaceAll("|", "\\|"),
        c.expected,
        int(c.sent),
        Object.entries(c.answers)
          .map(([answer, n]) => `${answer} × ${n}`)
          .join(", "),
        c.failed ? `${c.failed}: ${c.problems.join("; ").replaceAll("|", "\\|")}` : "0",
      ]),
    ),
  ];
}
