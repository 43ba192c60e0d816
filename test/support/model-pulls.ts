import { type ChildProcess, spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import {
  createProgress,
  type Outcome,
  type PullOptions,
  type PullSummary,
  pullModel,
  STATE_DIR,
} from "../../gpu-service/model/pull/index.ts";

/**
 * What a test pull needs to say; the rest has test defaults (fp32, main, quick retries, Retry-After honoured up to
 * 1 s, 5 s stall and request timeouts).
 */
export type TestPullOptions = Pick<PullOptions, "repo" | "hubUrl" | "dest"> & Partial<PullOptions>;

/**
 * gpu-service/model/pull's pullModel in this process, with its progress lines captured.
 *
 * @example const { result, log } = await pullForTest({ repo: "fake/clip", hubUrl: hub.url, dest })
 */
export async function pullForTest(
  options: TestPullOptions,
): Promise<{ result: Outcome<PullSummary>; log: string }> {
  let log = "";
  const result = await pullModel({
    revision: "main",
    precision: "fp32",
    retries: 3,
    retryDelayMs: 10,
    retryAfterCapMs: 1_000,
    stallTimeoutMs: 5_000,
    requestTimeoutMs: 5_000,
    lock: { wait: true, pollMs: 20 },
    progress: createProgress({ write: (text: string) => (log += text) }),
    ...options,
  });
  return { result, log };
}

/** The files of a model folder, sorted, without the pull's own bookkeeping (`.pull/`). */
export function filesUnder(dir: string): string[] {
  const walk = (at: string): string[] =>
    readdirSync(at, { withFileTypes: true }).flatMap((entry) => {
      if (entry.name === STATE_DIR && at === dir) return [];
      return entry.isDirectory() ? walk(join(at, entry.name)) : [relative(dir, join(at, entry.name))];
    });
  return walk(dir).sort();
}

/** The paths among `paths` whose bytes differ between the two folders (a missing file differs). */
export function differingFiles(dest: string, source: string, paths: readonly string[]): string[] {
  const bytes = (path: string) => {
    try {
      return readFileSync(path);
    } catch {
      return null;
    }
  };
  return paths.filter((path) => {
    const [a, b] = [bytes(join(dest, path)), bytes(join(source, path))];
    return a === null || b === null || !a.equals(b);
  });
}

export interface NodeProcess {
  child: ChildProcess;
  /** Its exit code (null when a signal killed it). */
  exited: Promise<number | null>;
  output(): string;
  /** Resolves with the first match of `pattern` in its output; rejects if it exits without printing it. */
  waitForOutput(pattern: RegExp): Promise<RegExpExecArray>;
}

const pullMain = new URL("./model-pull-main.ts", import.meta.url).pathname;
const containerEntry = new URL("../../gpu-service/container-entry.ts", import.meta.url).pathname;

/**
 * A pull in its own process (test/support/model-pull-main.ts), for what needs a real process: a SIGKILL mid-file,
 * a lock held by another pid. It prints `pull: ok …` or `pull: failed <code> …` and exits 0 or 1.
 *
 * @example const pull = startPullProcess({ repo: TINY_CLIP_REPO.id, hubUrl: hub.url, dest }); await pull.exited
 */
export function startPullProcess(options: TestPullOptions): NodeProcess {
  return startNode(pullMain, [JSON.stringify(options)], {}, false);
}

/**
 * gpu-service/container-entry.ts, as the image runs it, with `env` over this process's environment. It leads a
 * process group of its own, as a container's processes share one fate: `killGroup(child.pid)` is `docker kill`.
 */
export function startContainerEntry(env: Record<string, string>): NodeProcess {
  return startNode(containerEntry, [], env, true);
}

function startNode(
  script: string,
  args: string[],
  env: Record<string, string>,
  detached: boolean,
): NodeProcess {
  // process.execPath: the Node the tests run on, the project's pinned Node 24 under npm test.
  const child = spawn(process.execPath, [script, ...args], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
    detached,
  });
  let output = "";
  const exited = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  const waitForOutput = (pattern: RegExp) =>
    new Promise<RegExpExecArray>((resolve, reject) => {
      const check = () => {
        const match = pattern.exec(output);
        if (!match) return false;
        child.stdout?.off("data", check);
        child.stderr?.off("data", check);
        resolve(match);
        return true;
      };
      if (check()) return;
      child.stdout?.on("data", check);
      child.stderr?.on("data", check);
      void exited.then(() => {
        if (!check()) reject(new Error(`${script} exited without printing ${pattern}:\n${output}`));
      });
    });
  return { child, exited, output: () => output, waitForOutput };
}
