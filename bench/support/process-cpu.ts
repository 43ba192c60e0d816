// CPU time of other processes, from /proc (Linux): for end-to-end benchmarks that run several processes on one
// machine and want to say where the CPU of a request went, not only how many requests came through.
import { existsSync, readdirSync, readFileSync } from "node:fs";

/** Whether this machine exposes processes' CPU times (Linux's /proc). */
export const processCpuAvailable = existsSync("/proc/self/stat");

// utime and stime are in clock ticks; USER_HZ is 100 on every Linux architecture Node runs on.
const TICK_MS = 10;

/** /proc/<pid>/stat's fields after the command name (which may hold spaces and parentheses): state first. */
function statFields(pid: number): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}

/** User + system CPU milliseconds a process has used so far (all its threads). */
export function cpuMsOf(pid: number): number {
  const fields = statFields(pid);
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
}

/** The descendants of `pid` whose command name contains `name` (workerd under Miniflare, say). */
export function descendantsNamed(pid: number, name: string): number[] {
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      parentOf.set(Number(entry), Number(statFields(Number(entry))[1]));
    } catch {
      // The process ended while we looked.
    }
  }
  const descends = (child: number): boolean => {
    for (let at = parentOf.get(child); at !== undefined && at > 1; at = parentOf.get(at))
      if (at === pid) return true;
    return false;
  };
  return [...parentOf.keys()].filter((child) => {
    if (!descends(child)) return false;
    try {
      return readFileSync(`/proc/${child}/comm`, "utf8").includes(name);
    } catch {
      return false;
    }
  });
}
