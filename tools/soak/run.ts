import { readFileSync } from "node:fs";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { createRng, mixSeed, type Rng } from "../../shapes-world/prng.ts";
import { dayOf } from "../../src/billing/index.ts";
import { createApiKey } from "../keys/admin-client.ts";
import type { SoakOptions } from "./args.ts";
import { type BadCase, badCorpus } from "./bad-cases.ts";
import { summarizeBad } from "./bad-judge.ts";
import { type ClientTarget, resolveAmbiguous } from "./client.ts";
import { type Corpus, loadCorpus } from "./corpus.ts";
import { summarizeDeadlines } from "./deadline.ts";
import { closedLoops, type Drive, openArrivals } from "./drive.ts";
import { checkFaultTarget, faultTimeline, readStackState } from "./fault.ts";
import { scheduleFault } from "./fault-schedule.ts";
import { scrapeMetrics, stageBreakdown, startScraper } from "./gpu-metrics.ts";
import { type Calibration, calibrationOf, loadSummary } from "./load.ts";
import { isLoopbackUrl } from "./loopback.ts";
import type { OpenLoopStats } from "./open-loop.ts";
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
  const bad = options.mix.some((m) => m.route === "bad") ? badCorpusFor(corpus, options.url, gpuUrl) : [];
  // Sent round-robin in an order drawn from the seed, so a short run samples every kind of case.
  const badOrder = shuffled(bad, createRng(mixSeed(options.seed, -4)));
  log(
    `key ${created.id} on account ${account} (plan ${created.plan}); ${corpus.images.length} images` +
      (bad.length ? `; ${bad.length} bad-input cases` : ""),
  );

  // A starved harness would measure its own delays as the edge's: how late its timers ran goes in the report.
  const loopDelay = monitorEventLoopDelay({ resolution: 20 });
  loopDelay.enable();
  const t0 = performance.now();
  const clock = () => performance.now() - t0;
  const requests: LogicalRequest[] = [];
  const plans = new Map<LogicalRequest, PlannedRequest>();
  const target: ClientTarget = {
    url: options.url,
    apiKey: created.key,
    clock,
    timeoutMs: options.timeoutSeconds * 1000,
    policy: { retries: options.retries, capMs: RETRY_AFTER_CAP_MS },
  };
  let badSent = 0;
  const drive: Drive = {
    target,
    seed: options.seed,
    mix: options.mix,
    corpus,
    bad: badOrder,
    nextBad: () => badSent++,
    runTag: created.id.slice(-6),
    record: (request, plan) => {
      requests.push(request);
      plans.set(request, plan);
    },
  };
  // Requests in flight at a stage's end get one timeout and the longest retry wait to finish, then are cut.
  const drain = options.timeoutSeconds * 1000 + RETRY_AFTER_CAP_MS;
  const calibration =
    options.rate && "timesServed" in options.rate
      ? await calibrate(
          drive,
          requests,
          {
            clients: options.clients,
            seconds: options.calibrateSeconds,
            timesServed: options.rate.timesServed,
            drainMs: drain,
          },
          log,
        )
      : undefined;
  const ratePerSecond =
    options.rate &&
    ("perSecond" in options.rate ? options.rate.perSecond : (calibration?.targetPerSecond ?? 0));

  const runStartMs = clock();
  const scraper =
    gpuNote === undefined
      ? startScraper({
          read: () => scrapeMetrics(gpuUrl, options.gpuSecret as string),
          clock,
          intervalMs: SCRAPE_INTERVAL_MS,
        })
      : undefined;
  const endMs = runStartMs + options.seconds * 1000;
  const hardStop = new AbortController();
  const hardTimer = setTimeout(() => hardStop.abort(), endMs - clock() + drain);
  // The restart watch ends once billing has settled, whether or not a restart was seen.
  const watchStop = new AbortController();
  try {
    await scraper?.scrapeNow();
    const faultRun =
      options.fault && faultPid !== undefined
        ? scheduleFault({
            kind: options.fault,
            statePath: options.stateFile,
            fallbackPid: faultPid,
            atMs: runStartMs + (endMs - runStartMs) / 3,
            clock,
            stop: hardStop.signal,
            watchStop: watchStop.signal,
            beforeFault: () => scraper?.scrapeNow() ?? Promise.resolve(),
            log,
          })
        : undefined;

    let openLoop: OpenLoopStats | undefined;
    if (ratePerSecond !== undefined) {
      log(`open loop: ${ratePerSecond.toFixed(1)} requests/s (${options.arrivals}) for ${options.seconds} s`);
      openLoop = await openArrivals(drive, {
        ratePerSecond,
        process: options.arrivals,
        startMs: runStartMs,
        durationMs: options.seconds * 1000,
        maxInFlight: options.maxInFlight,
        stop: hardStop.signal,
      });
    } else await closedLoops(drive, { clients: options.clients, endMs, stop: hardStop.signal, stage: "run" });
    clearTimeout(hardTimer);
    const runSeconds = (clock() - runStartMs) / 1000;
    const measured = requests.filter((r) => r.stage === "run");
    log(
      `run over after ${runSeconds.toFixed(1)} s: ${measured.length} requests; settling ambiguous outcomes`,
    );
    await resolveAmbiguous(
      requests,
      plans,
      target,
      createRng(mixSeed(options.seed, -1)),
      options.timeoutSeconds,
    );
    const scraped = (await scraper?.stop()) ?? { scrapes: [], failed: 0 };
    loopDelay.disable();

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
        rate: options.rate,
        arrivals: options.arrivals,
        maxInFlight: options.maxInFlight,
        deadlineMs: options.deadlineMs,
      },
      key: { id: created.id, account },
      traffic: summarizeTraffic(measured, runSeconds),
      load: loadSummary(measured, runSeconds, calibration, openLoop),
      deadline: summarizeDeadlines(requests, options.deadlineMs, options.timeoutSeconds * 1000),
      harness: {
        eventLoopDelayMs: {
          p50: loopDelay.percentile(50) / 1e6,
          p99: loopDelay.percentile(99) / 1e6,
          max: loopDelay.max / 1e6,
        },
      },
      bad: bad.length
        ? summarizeBad(
            requests,
            bad.map((c) => c.id),
          )
        : undefined,
      fault: fault && {
        ...fault,
        timeline: faultTimeline(
          measured.flatMap((r) => r.attempts),
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
        split: breakdown ? timeSplit(measured, breakdown.gpuSeconds) : undefined,
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
    loopDelay.disable();
  }
}

/**
 * `--rate Nx`: closed loops of `clients` for `seconds`, then N × the 2xx/s they got (over the calibration and its
 * drain, as the report's throughput is counted). Its requests are billed and reconciled with the run's.
 */
async function calibrate(
  drive: Drive,
  requests: readonly LogicalRequest[],
  how: { clients: number; seconds: number; timesServed: number; drainMs: number },
  log: (line: string) => void,
): Promise<Calibration> {
  const startMs = drive.target.clock();
  log(`calibration: ${how.clients} closed-loop clients for ${how.seconds} s`);
  const stop = AbortSignal.timeout(how.seconds * 1000 + how.drainMs);
  await closedLoops(drive, {
    clients: how.clients,
    endMs: startMs + how.seconds * 1000,
    stop,
    stage: "calibration",
  });
  const calibration = calibrationOf(
    requests.filter((r) => r.stage === "calibration"),
    (drive.target.clock() - startMs) / 1000,
    how.clients,
    how.timesServed,
  );
  log(
    `calibration served ${calibration.servedPerSecond.toFixed(1)} 2xx/s: open loop at ${calibration.targetPerSecond.toFixed(1)}/s`,
  );
  return calibration;
}

function shuffled<T>(items: readonly T[], rng: Rng): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy;
}

function badCorpusFor(corpus: Corpus, edgeUrl: string, gpuUrl: string): BadCase[] {
  const jpeg = corpus.images.find((image) => image.mime === "image/jpeg");
  if (!jpeg) throw new Error("the soak corpus has no JPEG for the bad-input cases");
  let hostsFile = "";
  try {
    hostsFile = readFileSync("/etc/hosts", "utf8");
  } catch {
    // No hosts file (not Linux or macOS): only the literal loopback spellings are sent.
  }
  return badCorpus({ jpeg: jpeg.bytes, edgeUrl, gpuUrl, hostsFile });
}
