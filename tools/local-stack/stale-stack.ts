// What a supervisor that died abnormally (crash, SIGKILL, a vanished terminal) left behind: its children lead their
// own process groups, so they outlive it, keep their ports, and make the next `npm start` fail. On start, the state
// file says which supervisor and which children there were; this module tells whether that supervisor still runs
// and, when it does not, ends its children's groups — only after checking their command lines are ours, since pids
// are reused. Reads Linux's /proc; elsewhere it verifies nothing and kills nothing.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import type { LocalStackState } from "./state-file.ts";
import type { ServiceSpec } from "./supervisor.ts";

/** The argv of a running process, or undefined when it is gone, a zombie, or cannot be read (no /proc). */
export function commandLine(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    if (statField(stat, 3) === "Z") return undefined;
    const raw = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    return raw === "" ? undefined : raw.replace(/\0$/, "").split("\0");
  } catch {
    return undefined;
  }
}

/** Whether this machine has a /proc to verify command lines with. */
export function canVerifyProcesses(): boolean {
  return existsSync("/proc/self/cmdline");
}

/** Live (non-zombie) processes whose process group is `pgid`, with their command lines. */
export function groupMembers(pgid: number): { pid: number; argv: string[] }[] {
  const members: { pid: number; argv: string[] }[] = [];
  for (const entry of safeReaddir("/proc")) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      if (Number(statField(stat, 5)) !== pgid || statField(stat, 3) === "Z") continue;
      const argv = commandLine(pid);
      if (argv) members.push({ pid, argv });
    } catch {
      // Gone between the listing and the read.
    }
  }
  return members;
}

/**
 * Whether `pid` is a running `npm start` supervisor: alive, and its command line runs `entry`. A pid the state file
 * names but some other program now has (pids are reused) is not. Without /proc, any live pid counts (as before).
 *
 * @example isOurSupervisor(state.supervisorPid) // false once that supervisor died, even if the pid was reused
 */
export function isOurSupervisor(pid: number, entry = "tools/start.ts"): boolean {
  if (pid === process.pid) return false;
  if (!canVerifyProcesses()) return isAlive(pid);
  return commandLine(pid)?.some((arg) => arg.endsWith(entry)) ?? false;
}

/** What reapStaleStack did about one recorded service. */
export type ReapOutcome =
  | { name: string; kind: "gone" }
  | { name: string; kind: "reaped"; pids: number[] }
  | { name: string; kind: "not-ours"; pids: number[] }
  | { name: string; kind: "unverifiable"; pgid: number };

/**
 * Ends the process groups a dead supervisor's state file records, for each service whose every live group member's
 * command line carries one of the spec's `processMarkers` (a group with anything else in it is left alone and
 * reported): SIGTERM, then SIGKILL after `graceMs`, then waits (bounded) until the group is gone so its ports are
 * free. Call it only once isOurSupervisor said no.
 *
 * @example for (const outcome of await reapStaleStack(state, [gpu, edge])) log(describeReap(outcome))
 */
export async function reapStaleStack(
  state: Pick<LocalStackState, "gpuPid" | "edgePid" | "postgresPid">,
  services: readonly Pick<ServiceSpec, "name" | "processMarkers">[],
  options: { graceMs?: number; goneWithinMs?: number } = {},
): Promise<ReapOutcome[]> {
  const recorded: Record<string, number | null | undefined> = {
    gpu: state.gpuPid,
    edge: state.edgePid,
    postgres: state.postgresPid,
  };
  return Promise.all(
    services.map(async (spec): Promise<ReapOutcome> => {
      const pgid = recorded[spec.name];
      if (pgid === null || pgid === undefined || !groupAlive(pgid)) return { name: spec.name, kind: "gone" };
      if (!canVerifyProcesses()) return { name: spec.name, kind: "unverifiable", pgid };
      const members = groupMembers(pgid);
      if (members.length === 0) return { name: spec.name, kind: "gone" };
      const markers = spec.processMarkers ?? [];
      const ours = members.every(({ argv }) =>
        argv.some((arg) => markers.some((marker) => arg.includes(marker))),
      );
      const pids = members.map((m) => m.pid).sort((a, b) => a - b);
      if (!ours || markers.length === 0) return { name: spec.name, kind: "not-ours", pids };
      await endGroup(pgid, options.graceMs ?? 5_000, options.goneWithinMs ?? 30_000);
      return { name: spec.name, kind: "reaped", pids };
    }),
  );
}

/**
 * The log line for an outcome, or undefined when there is nothing to say.
 *
 * @example describeReap({ name: "gpu", kind: "reaped", pids: [4242] }) // "stopped gpu left running by a previous npm start (pid 4242)"
 */
export function describeReap(outcome: ReapOutcome): string | undefined {
  switch (outcome.kind) {
    case "gone":
      return undefined;
    case "reaped":
      return `stopped ${outcome.name} left running by a previous npm start (pid ${outcome.pids.join(", ")})`;
    case "not-ours":
      return `left pid ${outcome.pids.join(", ")} alone: the state file names it as ${outcome.name}, but it runs something else`;
    case "unverifiable":
      return `a previous npm start may have left ${outcome.name} running (process group ${outcome.pgid}); without /proc it cannot be verified, so stop it yourself if the port is taken`;
  }
}

async function endGroup(pgid: number, graceMs: number, goneWithinMs: number): Promise<void> {
  signalGroup(pgid, "SIGTERM");
  const started = Date.now();
  let killed = false;
  while (groupMembers(pgid).length > 0) {
    const waited = Date.now() - started;
    if (!killed && waited >= graceMs) {
      signalGroup(pgid, "SIGKILL");
      killed = true;
    }
    if (waited >= graceMs + goneWithinMs) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The nth field (1-based) of /proc/<pid>/stat; the command name (field 2) may hold spaces and parentheses. */
function statField(stat: string, n: number): string | undefined {
  const afterName = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return n === 1 ? stat.split(" ")[0] : afterName[n - 3];
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function groupAlive(pgid: number): boolean {
  return isAlive(-pgid);
}

function isAlive(target: number): boolean {
  try {
    process.kill(target, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {}
}
