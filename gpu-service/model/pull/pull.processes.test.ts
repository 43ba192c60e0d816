import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { type ModelHub, type SeenRequest, startModelHub } from "../../../test/support/model-hub.ts";
import {
  differingFiles,
  filesUnder,
  type NodeProcess,
  pullForTest,
  startPullProcess,
} from "../../../test/support/model-pulls.ts";
import { FP32_LAYOUT, TINY_CLIP_REPO } from "../../../test/support/model-repos.ts";
import { waitFor } from "../../../test/support/wait.ts";
import { createProgress, lockPathOf, STATE_DIR } from "./index.ts";

// Pulls in processes of their own, against models/tiny-clip served by a local Hub: a SIGKILL mid-file, and two pulls
// of one folder at once.

const root = mkdtempSync(join(tmpdir(), "model-pull-processes-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const ENCODER = "onnx/vision_model.onnx";
const CUT_AT = 1_000_000; // of vision_model.onnx's 2.9 MB

let hub: ModelHub | undefined;
const processes: NodeProcess[] = [];
afterEach(async () => {
  for (const { child } of processes.splice(0)) child.kill("SIGKILL");
  await hub?.close();
  hub = undefined;
});

function start(options: Parameters<typeof startPullProcess>[0]): NodeProcess {
  const pull = startPullProcess(options);
  processes.push(pull);
  return pull;
}

function freshDest(): string {
  return join(mkdtempSync(join(root, "dest-")), "tiny-clip");
}

/** The Range of every request that fetched a file's bytes, by repo path (the hub library's size probes left out). */
function fetchesByPath(requests: SeenRequest[]): Record<string, (string | null)[]> {
  const byPath: Record<string, (string | null)[]> = {};
  for (const r of requests) {
    if (r.served === undefined || r.range === "bytes=0-0") continue;
    byPath[r.served] = [...(byPath[r.served] ?? []), r.range ?? null];
  }
  return byPath;
}

describe("a pull killed mid-download", () => {
  it("is resumed by the next start with a Range request, taking over the dead process's lock", async () => {
    hub = await startModelHub({ repos: [TINY_CLIP_REPO] });
    let reached!: () => void;
    const cut = new Promise<void>((resolve) => (reached = resolve));
    hub.faults.push({ kind: "stall", path: ENCODER, afterBytes: CUT_AT, times: 1, reached });
    const dest = freshDest();
    const options = { repo: TINY_CLIP_REPO.id, hubUrl: hub.url, dest, stallTimeoutMs: 120_000 };

    const first = start(options);
    await cut;
    const partial = join(dest, `${ENCODER}.partial`);
    await waitFor(
      "the first megabyte in the partial file",
      () => statSync(partial, { throwIfNoEntry: false })?.size === CUT_AT,
    );
    first.child.kill("SIGKILL");
    expect(await first.exited).toBe(null);
    // What a kill leaves: the lock of a dead pid, a partial file, no "complete" marker, no encoder in place.
    expect(JSON.parse(readFileSync(lockPathOf(dest), "utf8")).pid).toBe(first.child.pid);
    expect(existsSync(join(dest, STATE_DIR, "complete-fp32.json"))).toBe(false);
    expect(existsSync(join(dest, ENCODER))).toBe(false);

    const second = start(options);
    expect(await second.exited).toBe(0);
    expect(second.output()).toContain(`took over a stale lock: pid ${first.child.pid} is no longer running`);
    expect(second.output()).toMatch(new RegExp(`${ENCODER}: begin \\d+ from ${CUT_AT}\\n`));
    const fetches = fetchesByPath(hub.requests);
    expect(fetches[ENCODER]).toEqual([null, `bytes=${CUT_AT}-`]);
    expect(filesUnder(dest)).toEqual(FP32_LAYOUT);
    expect(differingFiles(dest, TINY_CLIP_REPO.dir, FP32_LAYOUT)).toEqual([]);
    expect(existsSync(lockPathOf(dest))).toBe(false);
    expect(existsSync(join(dest, STATE_DIR, "complete-fp32.json"))).toBe(true);
  });
});

describe("two pulls of one folder at once", () => {
  it("never interleave: while one holds the folder the other fails if told not to wait, else waits and fetches nothing", async () => {
    hub = await startModelHub({ repos: [TINY_CLIP_REPO] });
    let reached!: () => void;
    const cut = new Promise<void>((resolve) => (reached = resolve));
    let resume!: () => void;
    const until = new Promise<void>((resolve) => (resume = resolve));
    hub.faults.push({ kind: "stall", path: ENCODER, afterBytes: CUT_AT, times: 1, reached, until });
    const dest = freshDest();

    const holder = start({ repo: TINY_CLIP_REPO.id, hubUrl: hub.url, dest, stallTimeoutMs: 120_000 });
    await cut;
    const pid = holder.child.pid as number;

    const refused = await pullForTest({
      repo: TINY_CLIP_REPO.id,
      hubUrl: hub.url,
      dest,
      lock: { wait: false },
    });
    expect(refused.result.ok || refused.result.error).toMatchObject({
      code: "locked",
      message: expect.stringContaining(`is being pulled into by pid ${pid} on `),
    });

    let log = "";
    let waiting!: () => void;
    const waits = new Promise<void>((resolve) => (waiting = resolve));
    const progress = createProgress({
      write(text: string) {
        log += text;
        if (text.includes(`waiting: pid ${pid} `)) waiting();
      },
    });
    const second = pullForTest({
      repo: TINY_CLIP_REPO.id,
      hubUrl: hub.url,
      dest,
      progress,
      lock: { wait: true, pollMs: 20 },
    });
    await waits;
    const whileWaiting = hub.requests.length;
    resume();
    expect(await holder.exited).toBe(0);

    const { result } = await second;
    if (!result.ok) throw new Error(result.error.message);
    expect(result.value.fetched).toBe(0);
    expect(result.value.files.every((f) => f.status === "up-to-date")).toBe(true);
    expect(log).toContain("already there (verified earlier)");
    // Each file came over the network exactly once, all of it to the holder (config.json twice: its model_type is
    // read before the lock is taken); the waiting pull only listed the repo.
    const fetches = fetchesByPath(hub.requests);
    expect(Object.keys(fetches).sort()).toEqual([...FP32_LAYOUT]);
    for (const path of FP32_LAYOUT)
      expect(fetches[path], path).toEqual(path === "config.json" ? [null, null] : [null]);
    expect(
      hub.requests.slice(whileWaiting).filter((r) => r.url.includes("/resolve/") || r.server === "cdn"),
    ).toEqual([]);
    expect(differingFiles(dest, TINY_CLIP_REPO.dir, FP32_LAYOUT)).toEqual([]);
  });
});
