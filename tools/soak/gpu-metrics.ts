import { setTimeout as sleep } from "node:timers/promises";
import { signRequest } from "../../src/signing/index.ts";
import { type Increase, parsePrometheus, parseSeriesKey, type Samples, type Scrape } from "./prometheus.ts";

/**
 * Reads the GPU tier's Prometheus /metrics, which is signed like every edge → GPU call. A reason instead when the
 * service does not answer 200 (it may be down: the run goes on without that scrape).
 */
export async function scrapeMetrics(
  gpuUrl: string,
  secret: string,
  timeoutMs = 2_000,
): Promise<{ ok: true; samples: Samples } | { ok: false; reason: string }> {
  const url = new URL("/metrics", gpuUrl);
  try {
    const headers = await signRequest({ secret, method: "GET", path: url.pathname, body: new Uint8Array(0) });
    const response = await fetch(url, { headers: { ...headers }, signal: AbortSignal.timeout(timeoutMs) });
    const text = await response.text();
    return response.ok
      ? { ok: true, samples: parsePrometheus(text) }
      : { ok: false, reason: `${response.status} ${text.slice(0, 120)}` };
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }
}

export interface ScrapeLog {
  /** Every successful scrape, in order. */
  scrapes: Scrape[];
  failed: number;
  lastFailure?: string;
}

export interface Scraper {
  /** Scrapes now (e.g. right before a fault), after any scrape already running. */
  scrapeNow(): Promise<void>;
  /** Takes a last scrape, stops the loop and returns what it gathered (the same, if called again). */
  stop(): Promise<ScrapeLog>;
}

/**
 * Scrapes every `intervalMs` until stopped, so a restart loses at most one interval of the old process's work
 * (a scrape is also taken right before the fault).
 */
export function startScraper(options: {
  read: () => Promise<{ ok: true; samples: Samples } | { ok: false; reason: string }>;
  clock: () => number;
  intervalMs: number;
}): Scraper {
  const log: ScrapeLog = { scrapes: [], failed: 0 };
  const stopped = new AbortController();
  let chain: Promise<void> = Promise.resolve();
  const scrapeNow = () => {
    chain = chain.then(async function scrapeOnce() {
      const read = await options.read();
      if (read.ok) log.scrapes.push({ atMs: options.clock(), samples: read.samples });
      else {
        log.failed++;
        log.lastFailure = read.reason;
      }
    });
    return chain;
  };
  const loop = (async function scrapeLoop() {
    while (!stopped.signal.aborted) {
      await scrapeNow();
      await sleep(options.intervalMs, undefined, { signal: stopped.signal }).catch(() => {});
    }
  })();
  return {
    scrapeNow,
    stop: async () => {
      if (stopped.signal.aborted) return log; // stopping twice takes no second last scrape
      stopped.abort();
      await loop;
      await scrapeNow();
      return log;
    },
  };
}

export interface KindBreakdown {
  items: number;
  batches: number;
  meanBatchSize?: number;
  /** Queue wait is timed per item; prepare (decode, resize) and inference per batch. */
  queueWaitMsPerItem?: number;
  prepareMsPerBatch?: number;
  inferenceMsPerBatch?: number;
  prepareMsPerItem?: number;
  inferenceMsPerItem?: number;
}

export interface StageBreakdown {
  kinds: Record<string, KindBreakdown>;
  /** Successful scrapes the deltas come from, and failed ones (the service down or restarting). */
  scrapes?: { ok: number; failed: number; lastFailure?: string };
  /** The GPU service's own HTTP time by route (/v1/… and /hf/… only: the work, not probes or /metrics). */
  routes: Record<string, { requests: number; meanMs: number }>;
  gpuSeconds: number;
  gpuRequests: number;
  processes: number;
  restarts: Increase["restarts"];
}

/**
 * Per-stage means from the growth of the service's histograms (`clip_stage_seconds`, `clip_batch_size`,
 * `clip_http_request_seconds`): means are Δsum / Δcount, per item where the histogram counts items.
 */
export function stageBreakdown(increase: Increase): StageBreakdown {
  const sums = new Map<string, { sum: number; count: number }>();
  for (const [key, value] of increase.delta) {
    const { name, labels } = parseSeriesKey(key);
    const part = /_(sum|count)$/.exec(name)?.[1];
    if (!part) continue;
    const base = name.slice(0, -part.length - 1);
    const id = `${base}|${labels.kind ?? ""}|${labels.stage ?? ""}|${labels.route ?? ""}`;
    const entry = sums.get(id) ?? { sum: 0, count: 0 };
    entry[part as "sum" | "count"] += value;
    sums.set(id, entry);
  }
  const get = (base: string, kind = "", stage = "", route = "") =>
    sums.get(`${base}|${kind}|${stage}|${route}`);
  const meanMs = (s?: { sum: number; count: number }) =>
    s && s.count > 0 ? (s.sum / s.count) * 1000 : undefined;
  const kinds: Record<string, KindBreakdown> = {};
  const kindNames = new Set(
    [...sums.keys()].filter((id) => id.startsWith("clip_")).map((id) => id.split("|")[1]),
  );
  for (const kind of kindNames) {
    if (!kind) continue;
    const batch = get("clip_batch_size", kind);
    const items = batch?.sum ?? 0;
    const batches = batch?.count ?? 0;
    const prepare = get("clip_stage_seconds", kind, "prepare");
    const inference = get("clip_stage_seconds", kind, "inference");
    const perItem = (s?: { sum: number }) => (s && items > 0 ? (s.sum / items) * 1000 : undefined);
    kinds[kind] = {
      items,
      batches,
      meanBatchSize: batches > 0 ? items / batches : undefined,
      queueWaitMsPerItem: meanMs(get("clip_stage_seconds", kind, "queue_wait")),
      prepareMsPerBatch: meanMs(prepare),
      inferenceMsPerBatch: meanMs(inference),
      prepareMsPerItem: perItem(prepare),
      inferenceMsPerItem: perItem(inference),
    };
  }
  const routes: StageBreakdown["routes"] = {};
  let gpuSeconds = 0;
  let gpuRequests = 0;
  for (const [id, entry] of sums) {
    const [base, , , route] = id.split("|");
    if (base !== "clip_http_request_seconds" || !route || !/^\/(v1|hf)\//.test(route) || entry.count === 0)
      continue;
    routes[route] = { requests: entry.count, meanMs: (entry.sum / entry.count) * 1000 };
    gpuSeconds += entry.sum;
    gpuRequests += entry.count;
  }
  return {
    kinds,
    routes,
    gpuSeconds,
    gpuRequests,
    processes: increase.processes,
    restarts: increase.restarts,
  };
}
