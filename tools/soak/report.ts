import type { Reconciliation } from "./reconcile.ts";
import { badLines, deadlineLines, loadLines, table } from "./report-sections.ts";
import type { SoakResult } from "./result.ts";
import type { LatencySummary } from "./stats.ts";
import { TOTAL_FIELDS, type Totals } from "./types.ts";

/** Entries of each reconciliation list printed (all of them go to --json, up to JSON_LIST_LIMIT). */
const SHOWN = 10;
const JSON_LIST_LIMIT = 1_000;

const ms = (n?: number) => (n === undefined ? "–" : n < 100 ? n.toFixed(1) : n.toFixed(0));
const s = (millis?: number) => (millis === undefined ? "never" : `+${(millis / 1000).toFixed(2)} s`);
const int = (n: number) => n.toLocaleString("en-US");
const rate = (n: number) => n.toFixed(1);

/** The report as Markdown-flavoured text: tables paste straight into docs/reliability.md. */
export function renderReport(result: SoakResult): string {
  const { settings, traffic } = result;
  const out: string[] = [];
  const mix = settings.mix.map((m) => (m.weight === 1 ? m.route : `${m.route}:${m.weight}`)).join(",");
  const rateText = !settings.rate
    ? `${settings.clients} clients`
    : "perSecond" in settings.rate
      ? `${settings.rate.perSecond} requests/s`
      : `${settings.rate.timesServed}× the served rate`;
  out.push(
    `# clip-edge soak — ${rateText} × ${settings.seconds} s against ${settings.url}`,
    `mix ${mix}; retries ${settings.retries}; timeout ${settings.timeoutSeconds} s; deadline ${settings.deadlineMs} ms; ` +
      `plan ${settings.plan}; seed ${settings.seed}` +
      `${settings.fault ? `; fault ${settings.fault}` : ""}; started ${result.startedAt}`,
    `key ${result.key.id} on account ${result.key.account}`,
    "",
    `## Answers: ${int(traffic.requests)} requests, ${int(traffic.attempts)} attempts in ${traffic.durationSeconds.toFixed(1)} s`,
  );
  const outcomes = [...new Set([...Object.keys(traffic.answers), ...Object.keys(traffic.attemptOutcomes)])];
  out.push(
    table(
      ["status / code", "final answers", "attempts"],
      outcomes.map((o) => [o, int(traffic.answers[o] ?? 0), int(traffic.attemptOutcomes[o] ?? 0)]),
    ),
    "",
    `throughput: ${rate(traffic.throughput.answersPerSecond)} answers/s, ${rate(traffic.throughput.okPerSecond)} 2xx/s, ` +
      `${rate(traffic.throughput.imagesPerSecond)} images/s served`,
    `retries: ${int(traffic.retries.total)} over ${int(traffic.retries.requestsRetried)} requests ` +
      `(${
        Object.entries(traffic.retries.byReason)
          .map(([k, v]) => `${k} ${int(v)}`)
          .join(", ") || "none"
      }); ${int(traffic.retries.succeededAfterRetry)} succeeded after retrying, ` +
      `${int(traffic.retries.gaveUp)} gave up on a retryable answer`,
    `settled after the run with the same key: ${int(traffic.resolved.requests)}` +
      (traffic.resolved.requests
        ? ` (${Object.entries(traffic.resolved.byOutcome)
            .map(([k, v]) => `${k} ${v}`)
            .join(", ")})`
        : ""),
    "",
    "## Latency (ms): final answers (2xx, retries included) and attempts (each exchange)",
    table(
      ["route", "final n", "p50", "p95", "p99", "attempts n", "p50", "p95", "p99"],
      Object.entries(traffic.latencyMs)
        .sort(([a], [b]) => (a === "all" ? 1 : b === "all" ? -1 : a.localeCompare(b)))
        .map(([route, l]) => [route, ...cells(l.final), ...cells(l.attempts)]),
    ),
  );
  out.push("", ...loadLines(result), "", ...deadlineLines(result));
  if (result.bad) out.push("", ...badLines(result));
  if (result.fault) out.push("", ...faultLines(result));
  out.push("", ...gpuLines(result), "", ...billingLines(result.reconciliation, result), "");
  out.push(
    result.ok
      ? "RESULT: PASS — billing reconciles exactly, every answer was well-formed and in time" +
          (result.bad ? ", every bad input refused as expected" : "")
      : `RESULT: FAIL\n${result.failures.map((f) => `- ${f}`).join("\n")}`,
  );
  return `${out.join("\n")}\n`;
}

function cells(l: LatencySummary): string[] {
  return [int(l.count), ms(l.p50), ms(l.p95), ms(l.p99)];
}

function faultLines(result: SoakResult): string[] {
  const f = result.fault;
  if (!f) return [];
  const before = f.stateBefore;
  const after = f.stateAfter;
  if (f.refused) return [`## Fault: not injected — ${f.refused}`];
  return [
    `## Fault: ${f.signal} to the GPU service (pid ${f.pid}) at ${(f.atMs / 1000).toFixed(1)} s`,
    `first 503: ${s(f.timeline.firstUnavailableMs)}${f.timeline.firstUnavailableCode ? ` (${f.timeline.firstUnavailableCode})` : ""}; ` +
      `503/504 answers after the fault: ${int(f.timeline.unavailableAnswers)}`,
    `time back to service (first GPU-bound 2xx started after the loss): ${s(f.timeline.backToServiceMs)}`,
    `old process gone: ${s(f.restart.oldExitedMs === undefined ? undefined : f.restart.oldExitedMs - f.atMs)}; ` +
      `state file said down: ${s(f.restart.downSeenMs === undefined ? undefined : f.restart.downSeenMs - f.atMs)}; ` +
      `restart in the state file: ${
        f.restart.newPid === undefined
          ? "none seen"
          : `pid ${f.pid} → ${f.restart.newPid} seen ${s((f.restart.restartSeenMs ?? f.atMs) - f.atMs)} (updatedAt ${f.restart.updatedAt})`
      }`,
    `state file before: gpuPid ${before?.gpuPid ?? "?"} (updatedAt ${before?.updatedAt ?? "?"}); after: gpuPid ${after?.gpuPid ?? "?"} (updatedAt ${after?.updatedAt ?? "?"})`,
  ];
}

function gpuLines(result: SoakResult): string[] {
  const { breakdown, split, note, url } = result.gpu;
  const lines = [`## Where the time goes (GPU tier ${url}/metrics, differences over the run)`];
  if (note) lines.push(note);
  if (!breakdown) return lines;
  lines.push(
    breakdown.processes > 1
      ? `${breakdown.processes} GPU processes (counters reset ${breakdown.restarts.length}×): summed per process; what an ` +
          `old process did after its last scrape (e.g. draining after SIGTERM) is missing (last scrapes before restarts: ${breakdown.restarts
            .map((r) => `${(r.lastOldMs / 1000).toFixed(1)} s`)
            .join(", ")})`
      : "one GPU process over the whole run",
    `${breakdown.scrapes?.ok ?? "?"} scrapes, ${breakdown.scrapes?.failed ?? 0} failed` +
      (breakdown.scrapes?.lastFailure ? ` (last: ${breakdown.scrapes.lastFailure})` : "") +
      `; image items embedded on the GPU ${int(breakdown.kinds.image?.items ?? 0)}, images billed ` +
      `${int(result.reconciliation.client.images)} (they differ by work not scraped, or images of failed requests)`,
    table(
      [
        "kind",
        "items",
        "batches",
        "mean batch",
        "queue wait ms/item",
        "prepare ms/batch",
        "inference ms/batch",
        "prepare ms/item",
        "inference ms/item",
      ],
      Object.entries(breakdown.kinds).map(([kind, k]) => [
        kind,
        int(k.items),
        int(k.batches),
        k.meanBatchSize === undefined ? "–" : k.meanBatchSize.toFixed(2),
        ms(k.queueWaitMsPerItem),
        ms(k.prepareMsPerBatch),
        ms(k.inferenceMsPerBatch),
        ms(k.prepareMsPerItem),
        ms(k.inferenceMsPerItem),
      ]),
    ),
    "",
    table(
      ["GPU route", "requests", "mean ms"],
      Object.entries(breakdown.routes).map(([route, r]) => [route, int(r.requests), ms(r.meanMs)]),
    ),
  );
  if (split?.clientMsPerAttempt !== undefined)
    lines.push(
      "",
      `per attempt: client ${ms(split.clientMsPerAttempt)} ms = GPU service ${ms(split.gpuMsPerAttempt)} ms + ` +
        `edge, network and waiting ${ms(split.edgeMsPerAttempt)} ms (${((split.edgeShare ?? 0) * 100).toFixed(0)}% outside the GPU service; ` +
        `${int(split.attempts)} attempts, ${split.clientSeconds.toFixed(1)} client-seconds, ${split.gpuSeconds.toFixed(1)} GPU-seconds)`,
    );
  return lines;
}

function billingLines(r: Reconciliation, result: SoakResult): string[] {
  const row = (name: string, v: Totals, extra: string | number = "–") => [
    name,
    ...TOTAL_FIELDS.map((f) => int(v[f])),
    typeof extra === "number" ? int(extra) : extra,
  ];
  const list = <T>(name: string, items: T[], show: (item: T) => string) =>
    items.length ? [`${name}: ${items.length}`, ...items.slice(0, SHOWN).map((i) => `  - ${show(i)}`)] : [];
  const { settle } = result;
  return [
    `## Billing reconciliation: ${r.ok ? "EXACT" : "MISMATCH"}`,
    table(
      ["side", ...TOTAL_FIELDS, "cost_micros"],
      [
        row("clients (2xx usage, each Idempotency-Key once)", r.client),
        row("/v1/usage totals (key meter)", r.meter, r.meter.cost_micros),
        row(
          `D1 export records (${int(r.exportRecords.records)}, ${settle.export.pages} page(s))`,
          r.exportRecords,
          r.exportRecords.cost_micros,
        ),
        row("D1 export totals", r.exportTotals, r.exportTotals.cost_micros),
      ],
    ),
    `records matched by request id: ${int(r.records.matched)}; missing ${r.records.missing.length}, extra ${r.records.extra.length}, ` +
      `duplicate ${r.records.duplicate.length}, unit mismatches ${r.records.unitMismatch.length}, billed but never answered 2xx ${r.records.billedUnanswered.length}, ` +
      `billed bad input ${r.records.billedBad.length}`,
    `replays among 2xx answers: ${int(r.replays)}; executed twice: ${r.executedTwice.length}; replays differing from the original: ${r.replayDiffers.length}`,
    `export settled: ${settle.export.how} after ${settle.export.reads} read(s), ${(settle.export.waitedMs / 1000).toFixed(1)} s; ` +
      `/v1/usage: ${settle.meter.how} after ${settle.meter.reads} read(s)`,
    ...r.differences.map((d) => `difference: ${d}`),
    ...(r.meter.requests > r.exportRecords.requests && r.records.missing.length
      ? [
          `note: the key meter bills ${int(r.meter.requests - r.exportRecords.requests)} request(s) D1 does not hold yet — a record ` +
            "sent to the export queue and never confirmed is sent again after 10 min (workers/billing/key-meter/" +
            "export-relay.ts); messages lost under a queue (wrangler dev reloading the Worker) look like this until then",
        ]
      : []),
    ...list("missing", r.records.missing, (m) => `${m.idempotencyKey} (attempts ${m.requestIds.join(", ")})`),
    ...list("extra", r.records.extra, (e) => `${e.id} request ${e.request_id}: ${e.why}`),
    ...list(
      "duplicate",
      r.records.duplicate,
      (d) => `${d.idempotencyKey ?? "(listed twice)"}: ${d.recordIds.join(", ")}`,
    ),
    ...list(
      "unit mismatch",
      r.records.unitMismatch,
      (u) => `${u.id} request ${u.request_id}: answered ${u.expected}, billed ${u.got}`,
    ),
    ...list(
      "billed, never answered 2xx",
      r.records.billedUnanswered,
      (b) => `${b.id} request ${b.request_id} (${b.idempotencyKey})`,
    ),
    ...list("billed bad input", r.records.billedBad, (b) => `${b.id} request ${b.request_id} (${b.caseId})`),
    ...list("executed twice", r.executedTwice, (k) => k),
    ...list("replay differs", r.replayDiffers, (k) => k),
  ];
}

/** The result for --json: the same facts, reconciliation lists capped so a broken run cannot write gigabytes. */
export function resultJson(result: SoakResult): string {
  const cap = <T>(items: T[]) => items.slice(0, JSON_LIST_LIMIT);
  const r = result.reconciliation;
  return `${JSON.stringify(
    {
      ...result,
      reconciliation: {
        ...r,
        records: {
          ...r.records,
          counts: {
            missing: r.records.missing.length,
            extra: r.records.extra.length,
            duplicate: r.records.duplicate.length,
            unitMismatch: r.records.unitMismatch.length,
            billedUnanswered: r.records.billedUnanswered.length,
            billedBad: r.records.billedBad.length,
          },
          missing: cap(r.records.missing),
          extra: cap(r.records.extra),
          duplicate: cap(r.records.duplicate),
          unitMismatch: cap(r.records.unitMismatch),
          billedUnanswered: cap(r.records.billedUnanswered),
          billedBad: cap(r.records.billedBad),
        },
        executedTwice: cap(r.executedTwice),
        replayDiffers: cap(r.replayDiffers),
      },
    },
    null,
    2,
  )}\n`;
}
