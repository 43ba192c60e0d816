import { existsSync, readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import type { FaultKind } from "./args.ts";

/**
 * What `npm start`'s supervisor writes to `.wrangler/local-stack.json` (`$LOCAL_STACK_DIR/local-stack.json`) and
 * rewrites on every (re)start of a child. A pid is null while that service is down, between its exit and restart.
 */
export interface StackState {
  edgeUrl: string;
  gpuUrl: string;
  gpuPid: number | null;
  edgePid?: number | null;
  supervisorPid?: number;
  updatedAt: string;
}

/**
 * Reads the state file; a reason instead when it is missing or not the agreed shape.
 *
 * @example readStackState(".wrangler/local-stack.json") // { ok: true, state: { gpuPid: 4242, gpuUrl: "http://127.0.0.1:8788", … } }
 */
export function readStackState(
  path: string,
): { ok: true; state: StackState } | { ok: false; reason: string } {
  if (!existsSync(path)) return { ok: false, reason: `${path} does not exist (is npm start running?)` };
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    return { ok: false, reason: `${path} is not JSON: ${(error as Error).message}` };
  }
  const pid = (n: unknown) => Number.isInteger(n) && (n as number) > 1;
  if (
    typeof value !== "object" ||
    value === null ||
    !(value.gpuPid === null || pid(value.gpuPid)) ||
    typeof value.gpuUrl !== "string"
  )
    return { ok: false, reason: `${path} has no gpuPid and gpuUrl` };
  return {
    ok: true,
    state: {
      edgeUrl: String(value.edgeUrl ?? ""),
      gpuUrl: value.gpuUrl,
      gpuPid: value.gpuPid as number | null,
      edgePid: pid(value.edgePid) ? (value.edgePid as number) : null,
      supervisorPid: pid(value.supervisorPid) ? (value.supervisorPid as number) : undefined,
      updatedAt: String(value.updatedAt ?? ""),
    },
  };
}

export const FAULT_SIGNALS: Record<FaultKind, NodeJS.Signals> = {
  "kill-gpu": "SIGKILL",
  "term-gpu": "SIGTERM",
};

/**
 * Refuses to signal a pid that is not plausibly the GPU service: not this process or its parent, and — where
 * /proc exists — a process whose command line mentions the GPU service. A stale state file whose pid was reused
 * must not get some other process killed.
 */
export function checkFaultTarget(pid: number, readCmdline = procCmdline): string | undefined {
  if (pid === process.pid || pid === process.ppid) return `pid ${pid} is this harness`;
  const cmdline = readCmdline(pid);
  if (cmdline === null) return `no process ${pid} (the state file is stale)`;
  if (cmdline !== undefined && !/gpu/i.test(cmdline))
    return `pid ${pid} does not look like the GPU service ("${cmdline.slice(0, 120)}")`;
  return undefined;
}

/**
 * Sends the fault's signal to `pid` after {@link checkFaultTarget}; throws with the reason when it refuses.
 *
 * @example sendFault(state.gpuPid, "kill-gpu") // SIGKILL
 */
export function sendFault(pid: number, kind: FaultKind, readCmdline = procCmdline): NodeJS.Signals {
  const refusal = checkFaultTarget(pid, readCmdline);
  if (refusal) throw new Error(refusal);
  const signal = FAULT_SIGNALS[kind];
  process.kill(pid, signal);
  return signal;
}

/** The command line of a pid: undefined where /proc does not exist, null when there is no such process. */
function procCmdline(pid: number): string | null | undefined {
  if (!existsSync("/proc/self/cmdline")) return undefined;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ").trim();
  } catch {
    return null;
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but is not ours to signal.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

export interface RestartWatch {
  /** When the old process was gone (ms of the run clock). */
  oldExitedMs?: number;
  /** When the state file first said the GPU service was down (gpuPid null). */
  downSeenMs?: number;
  /** When the state file first named another GPU pid, and what it then said. */
  restartSeenMs?: number;
  newPid?: number;
  updatedAt?: string;
}

/**
 * After a fault: polls the old pid and the state file until the old process is gone and the file names a new
 * GPU pid, or `stop` aborts (once billing has settled). Bounded by `stop` and by `maxPolls`.
 */
export async function watchRestart(options: {
  statePath: string;
  oldPid: number;
  clock: () => number;
  stop: AbortSignal;
  intervalMs?: number;
  maxPolls?: number;
  alive?: (pid: number) => boolean;
}): Promise<RestartWatch> {
  const watch: RestartWatch = {};
  const alive = options.alive ?? isAlive;
  const maxPolls = options.maxPolls ?? 100_000;
  for (let poll = 0; poll < maxPolls && !options.stop.aborted; poll++) {
    if (watch.oldExitedMs === undefined && !alive(options.oldPid)) watch.oldExitedMs = options.clock();
    if (watch.restartSeenMs === undefined) {
      const read = readStackState(options.statePath);
      if (read.ok && read.state.gpuPid === null) watch.downSeenMs ??= options.clock();
      if (read.ok && read.state.gpuPid !== null && read.state.gpuPid !== options.oldPid) {
        watch.restartSeenMs = options.clock();
        watch.newPid = read.state.gpuPid;
        watch.updatedAt = read.state.updatedAt;
      }
    }
    if (watch.oldExitedMs !== undefined && watch.restartSeenMs !== undefined) break;
    await sleep(options.intervalMs ?? 100, undefined, { signal: options.stop }).catch(() => {});
  }
  return watch;
}

export interface FaultTimeline {
  /** From the fault to the first 503 answer (ms), if any came. */
  firstUnavailableMs?: number;
  /** Its code, e.g. gpu_unavailable or shutting_down. */
  firstUnavailableCode?: string;
  /** From the fault to the first 2xx of a request that made the GPU work, started after service was lost. */
  backToServiceMs?: number;
  /** 503s and 504s answered after the fault. */
  unavailableAnswers: number;
}

/**
 * What clients saw of a fault at `faultMs`. "GPU-bound" means the answer's usage shows GPU work (images, or texts
 * computed rather than read from the cache) and it is not a replay; "after service was lost" means it started after
 * the first 503 (after the fault if none came), so a request the old process finished while draining does not
 * count as the new one serving.
 */
export function faultTimeline(
  attempts: readonly {
    startMs: number;
    endMs: number;
    status?: number;
    code?: string;
    replayed: boolean;
    usage?: { images: number; texts_computed: number };
  }[],
  faultMs: number,
): FaultTimeline {
  const after = attempts.filter((a) => a.endMs >= faultMs).sort((a, b) => a.endMs - b.endMs);
  const first503 = after.find((a) => a.status === 503);
  const lostAt = first503?.endMs ?? faultMs;
  const back = after.find(
    (a) =>
      a.startMs >= lostAt &&
      a.status !== undefined &&
      a.status >= 200 &&
      a.status < 300 &&
      !a.replayed &&
      a.usage !== undefined &&
      a.usage.images + a.usage.texts_computed > 0,
  );
  return {
    firstUnavailableMs: first503 && first503.endMs - faultMs,
    firstUnavailableCode: first503?.code,
    backToServiceMs: back && back.endMs - faultMs,
    unavailableAnswers: after.filter((a) => a.status === 503 || a.status === 504).length,
  };
}
