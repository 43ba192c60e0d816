import { retryReason } from "./retry.ts";
import type { Attempt, LogicalRequest, RequestKind } from "./types.ts";

/**
 * The nearest-rank percentile of ascending `sorted` values (the smallest value with at least p% of the values at
 * or below it), or undefined for no values.
 *
 * @example percentile([10, 20, 30, 40], 50) // 20; percentile([10, 20, 30, 40], 99) // 40
 */
export function percentile(sorted: readonly number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

export interface LatencySummary {
  count: number;
  p50?: number;
  p95?: number;
  p99?: number;
  mean?: number;
  max?: number;
}

/** @example summarizeLatencies([3, 1, 2]) // { count: 3, p50: 2, p95: 3, p99: 3, mean: 2, max: 3 } */
export function summarizeLatencies(values: readonly number[]): LatencySummary {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return { count: 0 };
  return {
    count: sorted.length,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    mean: sorted.reduce((sum, v) => sum + v, 0) / sorted.length,
    max: sorted.at(-1),
  };
}

/** "200", "429 rate_limited", "no answer: timeout": how answers are counted. */
export function outcomeOf(attempt: Attempt): string {
  if (attempt.noAnswer) return `no answer: ${attempt.noAnswer}`;
  return attempt.code ? `${attempt.status} ${attempt.code}` : String(attempt.status);
}

const isOk = (a: Attempt) => a.status !== undefined && a.status >= 200 && a.status < 300;

/** The answer a request ended the timed run with (its last run-phase attempt). */
export function runAnswer(request: LogicalRequest): Attempt | undefined {
  return request.attempts.filter((a) => a.phase === "run").at(-1);
}

export interface TrafficSummary {
  durationSeconds: number;
  requests: number;
  attempts: number;
  /** Final answers (per logical request) and every attempt, by outcome. */
  answers: Record<string, number>;
  attemptOutcomes: Record<string, number>;
  latencyMs: Record<string, { final: LatencySummary; attempts: LatencySummary }>;
  throughput: { answersPerSecond: number; okPerSecond: number; imagesPerSecond: number };
  retries: {
    total: number;
    byReason: Record<string, number>;
    requestsRetried: number;
    succeededAfterRetry: number;
    gaveUp: number;
  };
  /** Ambiguous outcomes settled after the run by asking again with the same key. */
  resolved: { requests: number; byOutcome: Record<string, number> };
}

/**
 * Counts, latencies, throughput and retries of a run. Final-answer latency runs from a request's first attempt to
 * its last run-phase answer (retry waits included); attempt latency is each exchange alone. Images per second
 * counts images served (2xx usage, each Idempotency-Key once).
 */
export function summarizeTraffic(
  requests: readonly LogicalRequest[],
  durationSeconds: number,
): TrafficSummary {
  const answers: Record<string, number> = {};
  const attemptOutcomes: Record<string, number> = {};
  const byReason: Record<string, number> = {};
  const latencies = new Map<RequestKind | "all", { final: number[]; attempts: number[] }>();
  const bucket = (route: RequestKind | "all") => {
    const entry = latencies.get(route) ?? { final: [], attempts: [] };
    latencies.set(route, entry);
    return entry;
  };
  let attempts = 0;
  let answered = 0;
  let ok = 0;
  let images = 0;
  let retriesTotal = 0;
  let requestsRetried = 0;
  let succeededAfterRetry = 0;
  let gaveUp = 0;
  const resolvedOutcomes: Record<string, number> = {};
  let resolved = 0;
  for (const request of requests) {
    const run = request.attempts.filter((a) => a.phase === "run");
    const last = run.at(-1);
    const first = run[0];
    if (!last || !first) continue;
    increment(answers, outcomeOf(last));
    if (!last.noAnswer) answered++;
    if (isOk(last)) {
      ok++;
      const latency = last.endMs - first.startMs;
      bucket(request.route).final.push(latency);
      bucket("all").final.push(latency);
    }
    const served = request.attempts.find(isOk);
    if (served?.usage) images += served.usage.images;
    for (const attempt of run) {
      attempts++;
      increment(attemptOutcomes, outcomeOf(attempt));
      if (!attempt.noAnswer) {
        bucket(request.route).attempts.push(attempt.endMs - attempt.startMs);
        bucket("all").attempts.push(attempt.endMs - attempt.startMs);
      }
    }
    for (const attempt of run.slice(0, -1)) increment(byReason, retryReason(attempt) ?? "other");
    if (run.length > 1) {
      retriesTotal += run.length - 1;
      requestsRetried++;
      if (isOk(last)) succeededAfterRetry++;
    }
    // Retries exhausted (or none allowed) on an answer that says "try again".
    if (retryReason(last) !== undefined) gaveUp++;
    const resolving = request.attempts.filter((a) => a.phase === "resolve");
    if (resolving.length) {
      resolved++;
      increment(resolvedOutcomes, outcomeOf(resolving.at(-1) as Attempt));
    }
  }
  const perSecond = (n: number) => (durationSeconds > 0 ? n / durationSeconds : 0);
  return {
    durationSeconds,
    requests: requests.length,
    attempts,
    answers: sortedRecord(answers),
    attemptOutcomes: sortedRecord(attemptOutcomes),
    latencyMs: Object.fromEntries(
      [...latencies].map(([route, v]) => [
        route,
        { final: summarizeLatencies(v.final), attempts: summarizeLatencies(v.attempts) },
      ]),
    ),
    throughput: {
      answersPerSecond: perSecond(answered),
      okPerSecond: perSecond(ok),
      imagesPerSecond: perSecond(images),
    },
    retries: {
      total: retriesTotal,
      byReason: sortedRecord(byReason),
      requestsRetried,
      succeededAfterRetry,
      gaveUp,
    },
    resolved: { requests: resolved, byOutcome: sortedRecord(resolvedOutcomes) },
  };
}

function increment(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

function sortedRecord(counts: Record<string, number>): Record<string, number> {
  return Object.fromEntries(
    Object.entries(counts).sort(([a], [b]) => a.localeCompare(b, "en", { numeric: true })),
  );
}

export interface TimeSplit {
  /** Run-phase attempts (answered or timed out, not cut by the hard stop), and the time clients spent on them. */
  attempts: number;
  clientSeconds: number;
  /** The GPU service's own HTTP time over the same window (its /v1 and /hf routes). */
  gpuSeconds: number;
  /** Per attempt: client latency, GPU time, and the rest — edge, network, queueing before the GPU. */
  clientMsPerAttempt?: number;
  gpuMsPerAttempt?: number;
  edgeMsPerAttempt?: number;
  edgeShare?: number;
}

/**
 * Where client time goes, edge against GPU: client latency summed over attempts, minus the GPU service's
 * HTTP time summed over the run. An approximation: one edge request may make two GPU calls at once (texts and
 * images), which counts that overlap twice on the GPU side.
 *
 * @example timeSplit(requests, 12.5).edgeShare // 0.4 → 40% of client time is spent outside the GPU service
 */
export function timeSplit(requests: readonly LogicalRequest[], gpuSeconds: number): TimeSplit {
  let attempts = 0;
  let clientMs = 0;
  // Unanswered attempts count too: the client waited for them, and the GPU may well have worked on them.
  for (const request of requests)
    for (const attempt of request.attempts)
      if (attempt.phase === "run" && attempt.noAnswer !== "hard_stop") {
        attempts++;
        clientMs += attempt.endMs - attempt.startMs;
      }
  if (attempts === 0) return { attempts, clientSeconds: 0, gpuSeconds };
  const gpuMs = gpuSeconds * 1000;
  return {
    attempts,
    clientSeconds: clientMs / 1000,
    gpuSeconds,
    clientMsPerAttempt: clientMs / attempts,
    gpuMsPerAttempt: gpuMs / attempts,
    edgeMsPerAttempt: (clientMs - gpuMs) / attempts,
    edgeShare: clientMs > 0 ? (clientMs - gpuMs) / clientMs : undefined,
  };
}
