import { parseArgs } from "node:util";
import { readDevVar } from "../keys/args.ts";
import type { ArrivalProcess } from "./arrivals.ts";
import { isLoopbackUrl } from "./loopback.ts";
import { KINDS, type RequestKind, ROUTES } from "./types.ts";

export const USAGE = `Usage: npm run soak -- [options]

Load and fault harness for the local stack (npm start): concurrent clients (or an open loop at a rate) on a fresh
key, retries with the same Idempotency-Key, an optional GPU fault and bad-input corpus, every answer checked against
the request deadline, then a report and an exact billing reconciliation. Exit 0 when everything reconciles, 1 on any
mismatch, late or unexpected answer, 2 on bad arguments.

  --clients N            concurrent client loops (default 64, at most 1024); with --rate Nx, the calibration's
  --seconds S            how long requests start (default 60, at most 3600)
  --rate R               open loop: R requests/s (at most 1000) arrive whatever the answers do, each with its own
                         retries; or Nx (e.g. 2x): N times the 2xx/s a closed-loop calibration first measured
  --arrivals KIND        poisson (default; gaps drawn from the seed) or even (1/R apart), for --rate
  --max-in-flight N      open loop: requests in flight at once (default 512); an arrival beyond waits (counted)
  --calibrate S          seconds of closed-loop calibration for --rate Nx (default 20)
  --mix LIST             routes to drive, each optionally weighted: classify,embeddings,captions (default),
                         or e.g. classify:3,captions:1; bad sends the bad-input corpus (e.g. …,bad:1)
  --fault KIND           kill-gpu (SIGKILL) or term-gpu (SIGTERM) the GPU service at a third of the run; its pid
                         comes from the state file npm start's supervisor writes
  --retries N            retries per request on 503/504/429/409 in progress/timeouts (default 3, at most 10)
  --deadline-ms MS       the edge's REQUEST_DEADLINE_MS (default 30000): answers later than it + 1 s (+ upload)
                         fail the run
  --timeout S            per-attempt timeout (default: the deadline + 5 s, so a late answer is seen)
  --settle S             how long to wait for the billing export to settle (default 60)
  --plan PLAN            the fresh key's plan (default pro)
  --seed N               workload seed (default: from the clock; printed in the report)
  --json FILE            also write the report as JSON
  --url URL              the edge (default: $EDGE_URL, else http://127.0.0.1:8787); loopback only
  --gpu-url URL          the GPU service, for /metrics (default: the state file's, else http://127.0.0.1:8788)
  --state-file FILE      the local stack's state (default $LOCAL_STACK_DIR/local-stack.json, else
                         .wrangler/local-stack.json)
  --admin-token TOKEN    the admin token (default: $ADMIN_TOKEN, else ADMIN_TOKEN from .dev.vars)
  -h, --help             this text

The GPU tier's /metrics are signed with $GPU_SHARED_SECRET, else GPU_SHARED_SECRET from .dev.vars.`;

export type FaultKind = "kill-gpu" | "term-gpu";

export interface MixEntry {
  route: RequestKind;
  weight: number;
}

/** Open-loop load: a fixed rate, or a multiple of the 2xx/s a closed-loop calibration measures first. */
export type RateOption = { perSecond: number } | { timesServed: number };

export interface SoakOptions {
  url: string;
  adminToken: string;
  clients: number;
  seconds: number;
  /** Absent: the closed loop of `clients`. */
  rate?: RateOption;
  arrivals: ArrivalProcess;
  maxInFlight: number;
  calibrateSeconds: number;
  deadlineMs: number;
  mix: MixEntry[];
  fault?: FaultKind;
  retries: number;
  timeoutSeconds: number;
  settleSeconds: number;
  plan: string;
  seed: number;
  json?: string;
  /** Explicitly given; otherwise the run takes the state file's, then the default. */
  gpuUrl?: string;
  gpuSecret?: string;
  stateFile: string;
}

export type SoakArgs = { help: true } | { help?: false; options: SoakOptions };

/**
 * Reads the command line, the environment and `.dev.vars`. Throws an Error whose message says what to fix.
 *
 * @example parseSoakArgs(["--clients", "8", "--fault", "kill-gpu"], { ADMIN_TOKEN: "t" }).options.clients // 8
 */
export function parseSoakArgs(
  argv: string[],
  env: Record<string, string | undefined>,
  devVarsPath = ".dev.vars",
): SoakArgs {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      clients: { type: "string" },
      seconds: { type: "string" },
      rate: { type: "string" },
      arrivals: { type: "string" },
      "max-in-flight": { type: "string" },
      calibrate: { type: "string" },
      "deadline-ms": { type: "string" },
      mix: { type: "string" },
      fault: { type: "string" },
      retries: { type: "string" },
      timeout: { type: "string" },
      settle: { type: "string" },
      plan: { type: "string" },
      seed: { type: "string" },
      json: { type: "string" },
      url: { type: "string" },
      "gpu-url": { type: "string" },
      "state-file": { type: "string" },
      "admin-token": { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) return { help: true };
  if (positionals.length) throw new Error(`unexpected argument "${positionals.join(" ")}"`);

  const url = loopback("--url", values.url ?? env.EDGE_URL ?? "http://127.0.0.1:8787");
  const gpuUrl = values["gpu-url"] === undefined ? undefined : loopback("--gpu-url", values["gpu-url"]);
  const adminToken = values["admin-token"] ?? env.ADMIN_TOKEN ?? readDevVar(devVarsPath, "ADMIN_TOKEN");
  if (!adminToken)
    throw new Error(
      "no admin token: pass --admin-token, set ADMIN_TOKEN, or run npm start once to create .dev.vars",
    );
  const fault = values.fault;
  if (fault !== undefined && fault !== "kill-gpu" && fault !== "term-gpu")
    throw new Error(`--fault must be kill-gpu or term-gpu, got "${fault}"`);
  const arrivals = values.arrivals ?? "poisson";
  if (arrivals !== "poisson" && arrivals !== "even")
    throw new Error(`--arrivals must be poisson or even, got "${arrivals}"`);
  const deadlineMs = integer("--deadline-ms", values["deadline-ms"], 30_000, 1_000, 120_000);
  return {
    options: {
      url,
      adminToken,
      clients: integer("--clients", values.clients, 64, 1, 1024),
      seconds: number("--seconds", values.seconds, 60, 0.5, 3600),
      rate: values.rate === undefined ? undefined : parseRate(values.rate),
      arrivals,
      maxInFlight: integer("--max-in-flight", values["max-in-flight"], 512, 1, 10_000),
      calibrateSeconds: number("--calibrate", values.calibrate, 20, 1, 600),
      deadlineMs,
      mix: parseMix(values.mix ?? ROUTES.join(",")),
      fault,
      retries: integer("--retries", values.retries, 3, 0, 10),
      timeoutSeconds: number("--timeout", values.timeout, deadlineMs / 1000 + 5, 0.1, 600),
      settleSeconds: number("--settle", values.settle, 60, 1, 3600),
      plan: values.plan ?? "pro",
      seed: integer("--seed", values.seed, Date.now() % 2 ** 31, 0, 2 ** 31 - 1),
      json: values.json,
      gpuUrl,
      gpuSecret: env.GPU_SHARED_SECRET ?? readDevVar(devVarsPath, "GPU_SHARED_SECRET"),
      stateFile: values["state-file"] ?? `${env.LOCAL_STACK_DIR ?? ".wrangler"}/local-stack.json`,
    },
  };
}

/**
 * `--rate`: requests per second, or `Nx`, N times the served rate a calibration measures.
 *
 * @example parseRate("40") // { perSecond: 40 }; parseRate("2x") // { timesServed: 2 }
 */
export function parseRate(text: string): RateOption {
  const times = /^(\d+(?:\.\d+)?)x$/i.exec(text.trim());
  if (times) {
    const timesServed = Number(times[1]);
    if (!(timesServed >= 0.1 && timesServed <= 10))
      throw new Error(`--rate: the multiple of the served rate must be from 0.1 to 10, got "${text}"`);
    return { timesServed };
  }
  return { perSecond: number("--rate", text, 0, 0.1, 1000) };
}

/**
 * `classify,embeddings:2` → each route once, with its weight (default 1).
 *
 * @example parseMix("classify:3,captions") // [{ route: "classify", weight: 3 }, { route: "captions", weight: 1 }]
 */
export function parseMix(text: string): MixEntry[] {
  const entries = text.split(",").map((part) => part.trim());
  const mix: MixEntry[] = [];
  for (const entry of entries) {
    const match = /^([a-z]+)(?::(\d+(?:\.\d+)?))?$/.exec(entry);
    const route = match?.[1] as RequestKind | undefined;
    if (!match || !route || !KINDS.includes(route))
      throw new Error(`--mix: "${entry}" is not one of ${KINDS.join(", ")} (optionally :weight)`);
    const weight = match[2] === undefined ? 1 : Number(match[2]);
    if (!(weight > 0)) throw new Error(`--mix: the weight of ${route} must be above 0`);
    if (mix.some((m) => m.route === route)) throw new Error(`--mix: ${route} is named twice`);
    mix.push({ route, weight });
  }
  return mix;
}

function loopback(flag: string, text: string): string {
  const check = isLoopbackUrl(text);
  if (!check.ok) throw new Error(`${flag}: the soak only runs against this machine; ${check.reason}`);
  return check.url.origin;
}

function number(flag: string, text: string | undefined, fallback: number, min: number, max: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (text.trim() === "" || !Number.isFinite(value) || value < min || value > max)
    throw new Error(`${flag} must be a number from ${min} to ${max}, got "${text}"`);
  return value;
}

function integer(flag: string, text: string | undefined, fallback: number, min: number, max: number): number {
  const value = number(flag, text, fallback, min, max);
  if (!Number.isInteger(value)) throw new Error(`${flag} must be a whole number, got "${text}"`);
  return value;
}
