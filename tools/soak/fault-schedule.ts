import { setTimeout as sleep } from "node:timers/promises";
import type { FaultKind } from "./args.ts";
import { FAULT_SIGNALS, type RestartWatch, readStackState, sendFault, watchRestart } from "./fault.ts";

export interface FaultRun {
  kind: FaultKind;
  signal: NodeJS.Signals;
  pid: number;
  /** Run clock (ms) when the signal was sent. */
  atMs: number;
  /** Why no signal was sent after all (e.g. the pid no longer looked like the GPU service). */
  refused?: string;
  restart: RestartWatch;
}

/**
 * At `atMs` on the run clock: runs `beforeFault` (a metrics scrape, so the old process's work is counted), reads
 * which pid serves now from the state file (the supervisor may have restarted it since the start; `fallbackPid`
 * otherwise), signals it, then watches for the restart until `watchStop` aborts. Undefined when `stop` aborts
 * before the fault is due.
 */
export async function scheduleFault(options: {
  kind: FaultKind;
  statePath: string;
  fallbackPid: number;
  atMs: number;
  clock: () => number;
  stop: AbortSignal;
  watchStop: AbortSignal;
  beforeFault?: () => Promise<void>;
  log?: (line: string) => void;
  readCmdline?: (pid: number) => string | null | undefined;
}): Promise<FaultRun | undefined> {
  const wait = Math.max(0, options.atMs - options.clock());
  const aborted = await sleep(wait, false, { signal: options.stop }).catch(() => true);
  if (aborted) return undefined;
  await options.beforeFault?.();
  const state = readStackState(options.statePath);
  const pid = state.ok ? state.state.gpuPid : options.fallbackPid;
  const atMs = options.clock();
  const signal = FAULT_SIGNALS[options.kind];
  if (pid === null) {
    const refused = "the state file says the GPU service is down right now (gpuPid null)";
    options.log?.(`fault not injected: ${refused}`);
    return { kind: options.kind, signal, pid: options.fallbackPid, atMs, refused, restart: {} };
  }
  try {
    sendFault(pid, options.kind, options.readCmdline);
  } catch (error) {
    options.log?.(`fault not injected: ${(error as Error).message}`);
    return { kind: options.kind, signal, pid, atMs, refused: (error as Error).message, restart: {} };
  }
  options.log?.(`${signal} sent to the GPU service (pid ${pid}) at ${(atMs / 1000).toFixed(1)} s`);
  const restart = await watchRestart({
    statePath: options.statePath,
    oldPid: pid,
    clock: options.clock,
    stop: options.watchStop,
  });
  return { kind: options.kind, signal, pid, atMs, restart };
}
