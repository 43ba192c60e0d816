// Where a running `npm start` can be found: its URLs and the pids of its processes, for tools that act on the stack
// from outside (tools/soak kills the GPU service through it). Rewritten on every (re)start of a child, removed on stop.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

/** `.wrangler/local-stack.json`, or `$LOCAL_STACK_DIR/local-stack.json`. */
export interface LocalStackState {
  edgeUrl: string;
  gpuUrl: string;
  /** The local Postgres; absent in files written before the stack had one. */
  postgresUrl?: string;
  /** null while that service is down (between an exit and its restart), so no one signals a pid reused since. */
  gpuPid: number | null;
  edgePid: number | null;
  postgresPid?: number | null;
  supervisorPid: number;
  /** ISO time of this write. */
  updatedAt: string;
}

/**
 * Writes the state atomically (a temp file renamed over the old one), so a reader never sees half a file.
 *
 * @example writeStackState(".wrangler/local-stack.json", { edgeUrl, gpuUrl, postgresUrl, gpuPid: 1234, edgePid: 1235, postgresPid: 1236, supervisorPid: process.pid })
 */
export function writeStackState(path: string, state: Omit<LocalStackState, "updatedAt">): LocalStackState {
  const full: LocalStackState = { ...state, updatedAt: new Date().toISOString() };
  mkdirSync(dirname(path), { recursive: true });
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(full, null, 2)}\n`);
  renameSync(temp, path);
  return full;
}

/** The state of a running stack, or undefined when there is none (no file, or one this version cannot read). */
export function readStackState(path: string): LocalStackState | undefined {
  if (!existsSync(path)) return undefined;
  try {
    const value = JSON.parse(readFileSync(path, "utf8")) as Partial<LocalStackState>;
    const pidOrNull = (pid: unknown) => pid === null || Number.isInteger(pid);
    if (
      typeof value.edgeUrl === "string" &&
      typeof value.gpuUrl === "string" &&
      pidOrNull(value.gpuPid) &&
      pidOrNull(value.edgePid) &&
      (value.postgresPid === undefined || pidOrNull(value.postgresPid)) &&
      (value.postgresUrl === undefined || typeof value.postgresUrl === "string") &&
      Number.isInteger(value.supervisorPid) &&
      typeof value.updatedAt === "string"
    )
      return value as LocalStackState;
  } catch {}
  return undefined;
}

export function removeStackState(path: string): void {
  rmSync(path, { force: true });
}
