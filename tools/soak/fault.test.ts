import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { checkFaultTarget, faultTimeline, readStackState, watchRestart } from "./fault.ts";
import { scheduleFault } from "./fault-schedule.ts";

const dir = () => mkdtempSync(join(tmpdir(), "soak-fault-"));
const children: ChildProcess[] = [];

/** A process that stands in for the GPU service: its command line says so, and it lives until signalled. */
function standIn(): ChildProcess {
  const child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)", "gpu-service-stand-in"], {
    stdio: "ignore",
  });
  children.push(child);
  return child;
}
const exitOf = (child: ChildProcess) =>
  new Promise<NodeJS.Signals | null>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.signalCode);
    else child.once("exit", (_code, signal) => resolve(signal));
  });

afterEach(() => {
  for (const child of children.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
});

function writeState(path: string, gpuPid: number | null, updatedAt = new Date().toISOString()): void {
  writeFileSync(
    path,
    JSON.stringify({
      edgeUrl: "http://127.0.0.1:8787",
      gpuUrl: "http://127.0.0.1:8788",
      gpuPid,
      edgePid: 3,
      supervisorPid: 4,
      updatedAt,
    }),
  );
}

describe("the local stack's state file", () => {
  it("is read in the agreed shape, and refused with a reason otherwise", () => {
    const path = join(dir(), "local-stack.json");
    expect(readStackState(path)).toEqual({
      ok: false,
      reason: `${path} does not exist (is npm start running?)`,
    });
    writeFileSync(path, "{");
    expect(readStackState(path)).toMatchObject({ ok: false, reason: expect.stringMatching(/is not JSON/) });
    writeFileSync(path, JSON.stringify({ gpuUrl: "http://127.0.0.1:8788", gpuPid: "12" }));
    expect(readStackState(path)).toEqual({ ok: false, reason: `${path} has no gpuPid and gpuUrl` });
    writeState(path, 4242, "2026-12-01T10:00:00.000Z");
    expect(readStackState(path)).toEqual({
      ok: true,
      state: {
        edgeUrl: "http://127.0.0.1:8787",
        gpuUrl: "http://127.0.0.1:8788",
        gpuPid: 4242,
        edgePid: 3,
        supervisorPid: 4,
        updatedAt: "2026-12-01T10:00:00.000Z",
      },
    });
  });
});

describe("fault injection", () => {
  it("refuses pids that are not plausibly the GPU service", () => {
    expect(checkFaultTarget(process.pid)).toMatch(/is this harness/);
    expect(checkFaultTarget(4242, () => null)).toMatch(/no process 4242/);
    expect(checkFaultTarget(4242, () => "/usr/bin/postgres -D /var/lib")).toMatch(
      /does not look like the GPU service/,
    );
    expect(checkFaultTarget(4242, () => "node gpu-service/main.ts")).toBeUndefined();
    expect(checkFaultTarget(4242, () => undefined)).toBeUndefined(); // no /proc: nothing to check against
  });

  it.each([
    ["kill-gpu", "SIGKILL"],
    ["term-gpu", "SIGTERM"],
  ] as const)(
    "%s sends %s to the pid in the state file, then sees the restart it records",
    async (kind, signal) => {
      const statePath = join(dir(), "local-stack.json");
      const old = standIn();
      const replacement = standIn();
      writeState(statePath, old.pid as number);
      const exited = exitOf(old);
      const watchStop = new AbortController();
      const start = performance.now();
      const run = scheduleFault({
        kind,
        statePath,
        fallbackPid: 1,
        atMs: 0,
        clock: () => performance.now() - start,
        stop: new AbortController().signal,
        watchStop: watchStop.signal,
      });
      expect(await exited).toBe(signal);
      // What the supervisor does: a new process, written to the state file.
      writeState(statePath, replacement.pid as number, "2026-12-01T10:00:05.000Z");
      const fault = await run;
      expect(fault).toMatchObject({ kind, signal, pid: old.pid });
      expect(fault?.refused).toBeUndefined();
      expect(fault?.restart).toMatchObject({
        newPid: replacement.pid,
        updatedAt: "2026-12-01T10:00:05.000Z",
      });
      expect(fault?.restart.oldExitedMs).toBeGreaterThanOrEqual(fault?.atMs ?? Number.NaN);
      expect(fault?.restart.restartSeenMs).toBeGreaterThanOrEqual(fault?.restart.oldExitedMs ?? Number.NaN);
      watchStop.abort();
    },
  );

  it("signals nothing when the state file's pid no longer looks like the GPU service", async () => {
    const statePath = join(dir(), "local-stack.json");
    const bystander = standIn();
    writeState(statePath, bystander.pid as number);
    const fault = await scheduleFault({
      kind: "kill-gpu",
      statePath,
      fallbackPid: 1,
      atMs: 0,
      clock: () => 0,
      stop: new AbortController().signal,
      watchStop: new AbortController().signal,
      readCmdline: () => "/usr/sbin/sshd -D",
    });
    expect(fault?.refused).toMatch(/does not look like the GPU service/);
    expect(bystander.exitCode === null && bystander.signalCode === null).toBe(true);
  });

  it("refuses to signal while the state file says the service is down", async () => {
    const statePath = join(dir(), "local-stack.json");
    writeState(statePath, null);
    expect(readStackState(statePath)).toMatchObject({ ok: true, state: { gpuPid: null } });
    const fault = await scheduleFault({
      kind: "kill-gpu",
      statePath,
      fallbackPid: 4242,
      atMs: 0,
      clock: () => 0,
      stop: new AbortController().signal,
      watchStop: new AbortController().signal,
    });
    expect(fault?.refused).toMatch(/down right now/);
  });

  it("notes when the state file shows the service down, and stops watching when told to", async () => {
    const statePath = join(dir(), "local-stack.json");
    writeState(statePath, null);
    const down = await watchRestart({
      statePath,
      oldPid: 4242,
      clock: () => 7,
      stop: new AbortController().signal,
      intervalMs: 1,
      maxPolls: 3,
      alive: () => false,
    });
    expect(down).toEqual({ oldExitedMs: 7, downSeenMs: 7 });

    const stop = new AbortController();
    const watching = watchRestart({
      statePath: join(dir(), "missing.json"),
      oldPid: 4242,
      clock: () => 1,
      stop: stop.signal,
      intervalMs: 10,
      alive: () => true,
    });
    stop.abort();
    expect(await watching).toEqual({});
    const bounded = await watchRestart({
      statePath: join(dir(), "missing.json"),
      oldPid: 4242,
      clock: () => 1,
      stop: new AbortController().signal,
      intervalMs: 1,
      maxPolls: 3,
      alive: () => false,
    });
    expect(bounded).toEqual({ oldExitedMs: 1 });
  });
});

describe("what clients saw of a fault", () => {
  const ok = (startMs: number, endMs: number, images = 1, replayed = false) => ({
    startMs,
    endMs,
    status: 200,
    replayed,
    usage: { images, texts_computed: 0 },
  });

  it("measures the first 503 and the first GPU-bound 2xx started after service was lost", () => {
    const timeline = faultTimeline(
      [
        ok(0, 900), // before the fault
        ok(950, 1200), // finished while the old process drained: not back to service
        { startMs: 1000, endMs: 1300, status: 503, code: "gpu_unavailable", replayed: false },
        ok(1400, 1500, 0), // texts from the cache only: no GPU work
        ok(1400, 1600, 1, true), // a replay: no GPU work either
        { startMs: 1500, endMs: 1700, status: 504, code: "upstream_timeout", replayed: false },
        ok(2000, 2500),
      ],
      1000,
    );
    expect(timeline).toEqual({
      firstUnavailableMs: 300,
      firstUnavailableCode: "gpu_unavailable",
      backToServiceMs: 1500,
      unavailableAnswers: 2,
    });
  });

  it("leaves what never happened undefined", () => {
    expect(faultTimeline([ok(0, 10)], 1000)).toEqual({
      firstUnavailableMs: undefined,
      firstUnavailableCode: undefined,
      backToServiceMs: undefined,
      unavailableAnswers: 0,
    });
  });
});
