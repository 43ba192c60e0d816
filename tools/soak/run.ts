import { setTimeout as sleep } from "node:timers/promises";
import { dayOf } from "../../src/billing/index.ts";
import { createApiKey } from "../keys/admin-client.ts";
import { createRng, mixSeed, type Rng } from "../tiny-clip/shapes-world/prng.ts";
import type { SoakOptions } from "./args.ts";
import { type ClientTarget, clientLoop, resolveAmbiguous } from "./client.ts";
import { loadCorpus } from "./corpus.ts";
import { checkFaultTarget, faultTimeline, readStackState } from "./fault.ts";
import { scheduleFault } from "./fault-schedule.ts";
import { scrapeMetrics, stageBreakdown, startScraper } from "./gpu-metrics.ts";
import { isLoopbackUrl } from "./loopback.ts";
import { increaseAcross } from "./prometheus.ts";
import { reconcile } from "./reconcile.ts";
import { failuresOf, type SoakResult } from "./result.ts";
import { summarizeTraffic, timeSplit } from "./stats.ts";
import type { LogicalRequest } from "./types.ts";
import { exportSignature, readExport, readMeterTotals, settle } from "./usage-sources.ts";
import type { PlannedRequest } from "./workload.ts";

export const DEFAULT_GPU_URL = "http://127.0.0.1:8788";
/** Longest wait a retry honours, whatever Retry-After says. */
const RETRY_AFTER_CAP_MS = 5_000;
const SCRAPE_INTERVAL_MS = 2_000;
/** How long after settling the harness still waits to see a faulted GPU service exit and come back. */
const RESTART_WAIT_MS = 30_000;

/**
 * The harness: a fresh key on a fresh account, `clients` loops for `seconds`, an optional GPU fault at a third
 * of the run, ambiguous outcomes settled with their own keys, GPU metrics before and after, and the billing
 * reconciliation once the export has settled. Throws only when it cannot start (bad target, no fault target, the
 * admin API refusing); everything that happens during the run is in the result.
 *
 * @example const result = await runSoak({ ...options, clients: 4, seconds: 5 }); result.ok // true
 */
export async function runSoak(
  options: SoakOptions,
  log: (line: string) => void = () => {},
): Promise<SoakResult> {
  const edge = isLoopbackUrl(options.url);
  if (!edge.ok) throw new Error(`the soak only runs against this machine; ${edge.reason}`);
  const stateBefore = readStackState(options.stateFile);
  let faultPid: number | undefined;
  if (options.fault) {
    if (!stateBefore.ok) throw new Error(`--fault needs the GPU's pid: ${stateBefore.reason}`);
    const pid = stateBefore.state.gpuPid;
    if (pid === null) throw new Error("--fault: the state file says the GPU service is down (gpuPid null)");
    const refusal = checkFaultTarget(pid);
    if (refusal) throw new Error(`--fault: ${refusal}`);
    faultPid = pid;
  }
  const gpuUrl = options.gpuUrl ?? (stateBefore.ok ? stateBefore.state.gpuUrl : DEFAULT_GPU_URL);
  const gpuNote = !isLoopbackUrl(gpuUrl).ok
    ? `the GPU URL ${gpuUrl} is not loopback; not scraped`
    : !options.gpuSecret
      ? "no GPU_SHARED_SECRET (environment or .dev.vars): /metrics not scraped"
      : undefined;

  const startedAt = new Date();
  const stamp = startedAt
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");
  const account = `soak-${stamp}-${crypto.randomUUID().slice(0, 4)}`;
  const created = await createApiKey(
    { url: options.url, adminToken: options.adminToken },
    { name: `soak ${startedAt.toISOString()}`, plan: options.plan, account },
  );
  const corpus = await loadCorpus(options.seed);
  log(`key ${created.id} on account ${account} (plan ${created.plan}); ${corpus.images.length} images`);

  const t0 = performance.now();
  const clock = () => performance.now() - t0;
  const scraper =
    gpuNote === undefined
      ? startScraper({
          read: () => scrapeMetrics(gpuUrl, options.gpuSecret as string),
          clock,
          intervalMs: SCRAPE_INTERVAL_MS,
        })
      : undefined;
  // Requests in flight at the end get one timeout and the longest retry wait to finish, then are cut.
  const endMs = options.seconds * 1000;
  const hardStop = new AbortController();
  const hardTimer = setTimeout(
    () => hardStop.abort(),
    endMs + options.timeoutSeconds * 1000 + RETRY_AFTER_CAP_MS,
  );
  // The restart watch ends once billing has settled, whether or not a restart was seen.
  const watchStop = new AbortController();
  try {
    await scraper?.scrapeNow();
    const target: ClientTarget = {
      url: options.url,
      apiKey: created.key,
      clock,
      timeoutMs: options.timeoutSeconds * 1000,
      policy: { retries: options.retries, capMs: RETRY_AFTER_CAP_MS },
    };
    const faultRun =
      options.fault && faultPid !== undefined
        ? scheduleFault({
            kind: options.fault,
            statePath: options.stateFile,
            fallbackPid: faultPid,
            atMs: endMs / 3,
            clock,
            stop: hardStop.signal,
            watchStop: watchStop.signal,
            beforeFault: () => scraper?.scrapeNow() ?? Promise.resolve(),
            log,
          })
        : undefined;

    const requests: LogicalRequest[] = [];
    const plans = new Map<LogicalRequest, PlannedRequest>();
    const runTag = created.id.slice(-6);
    // A count bound besides the clock: no client can start more than one request a millisecond.
    const maxRequests = Math.ceil(endMs);
    await Promise.all(
      Array.from({ length: options.clients }, (_, client) => {
        const rng = createRng(mixSeed(options.seed, client));
        return clientLoop({
          target,
          client,
          rng,
          corpus,
          mix: options.mix,
          endMs,
          maxRequests,
          fresh: freshTexts(rng, corpus.labels, `${runTag}c${client}`),
          stop: hardStop.signal,
          record: (request, plan) => {
            requests.push(request);
            plans.set(request, plan);
          },
        });
      }),
    );
    clearTimeout(hardTimer);
    const runSeconds = clock() / 1000;
    log(
      `run over after ${runSeconds.toFixed(1)} s: ${requests.length} requests; settling ambiguous outcomes`,
    );
    await resolveAmbiguous(
      requests,
      plans,
      target,
      createRng(mixSeed(options.seed, -1)),
      options.timeoutSeconds,
    );
    const scraped = (await scraper?.stop()) ?? { scrapes: [], failed: 0 };

    log("waiting for the billing export to settle");
    const days = { from: dayOf(startedAt.getTime()), to: dayOf(Date.now()) };
    const meter = await settle({
      read: () => readMeterTotals(options.url, created.key, days),
      signature: (totals) => JSON.stringify(totals),
      count: () => 0,
      target: 0,
      timeoutMs: 10_000,
      intervalMs: 500,
    });
    const exported = await settle({
      read: () => readExport(options.url, options.adminToken, account, days),
      signature: exportSignature,
      count: (read) => read.records.length,
      target: meter.value.requests,
      timeoutMs: options.settleSeconds * 1000,
    });
    // A draining service may exit, and be restarted, only after the run: the watch went on through the settling,
    // and waits a little longer for a restart it has not seen yet.
    if (faultRun) await Promise.race([faultRun, sleep(RESTART_WAIT_MS, undefined, { ref: false })]);
    watchStop.abort();
    const fault = await faultRun;
    const stateAfter = readStackState(options.stateFile);

    const { scrapes } = scraped;
    const breakdown =
      scrapes.length >= 2
        ? {
            ...stageBreakdown(increaseAcross(scrapes)),
            scrapes: { ok: scrapes.length, failed: scraped.failed, lastFailure: scraped.lastFailure },
          }
        : undefined;
    const partial = {
      startedAt: startedAt.toISOString(),
      settings: {
        url: options.url,
        clients: options.clients,
        seconds: options.seconds,
        mix: options.mix,
        retries: options.retries,
        timeoutSeconds: options.timeoutSeconds,
        plan: options.plan,
        seed: options.seed,
        fault: options.fault,
      },
      key: { id: created.id, account },
      traffic: summarizeTraffic(requests, runSeconds),
      fault: fault && {
        ...fault,
        timeline: faultTimeline(
          requests.flatMap((r) => r.attempts),
          fault.atMs,
        ),
        stateBefore: stateBefore.ok ? stateBefore.state : undefined,
        stateAfter: stateAfter.ok ? stateAfter.state : undefined,
      },
      gpu: {
        url: gpuUrl,
        note:
          gpuNote ??
          (breakdown
            ? undefined
            : `only ${scrapes.length} successful scrape(s) of ${gpuUrl}/metrics` +
              (scraped.lastFailure ? ` (${scraped.failed} failed; last: ${scraped.lastFailure})` : "")),
        breakdown,
        split: breakdown ? timeSplit(requests, breakdown.gpuSeconds) : undefined,
      },
      reconciliation: reconcile({
        requests,
        keyId: created.id,
        meter: meter.value,
        exportRecords: exported.value.records,
        exportTotals: exported.value.totals,
      }),
      settle: {
        meter: { reads: meter.reads, how: meter.how, waitedMs: meter.waitedMs },
        export: {
          reads: exported.reads,
          how: exported.how,
          waitedMs: exported.waitedMs,
          pages: exported.value.pages,
        },
      },
    };
    const failures = failuresOf(partial, requests);
    return { ok: failures.length === 0, failures, ...partial };
  } finally {
    // Also when something above threw: no timer, watch or scrape loop may outlive the run.
    clearTimeout(hardTimer);
    hardStop.abort();
    watchStop.abort();
    await scraper?.stop();
  }
}

/** Texts no one sent before: a pool label with this client's tag and a counter, so the text cache misses. */
function freshTexts(rng: Rng, labels: readonly string[], tag: string): () => string {
  let n = 0;
  return () => `${rng.pick(labels)} seen by soak ${tag} number ${n++}`;
}
