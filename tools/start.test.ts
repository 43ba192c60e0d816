// End to end: the real `npm start` entry (tools/start.ts), its real GPU service and real `wrangler dev`, on free ports
// and with its own LOCAL_STACK_DIR (local state, dev key, state file) so a developer's running stack is never touched.
// Shared with it, and idempotent: `.dev.vars` (read, or created once if missing) and the bundled model module
// (rewritten only if it no longer describes models/tiny-clip).
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { modelPresent } from "../test/support/gpu-service.ts";
import { freePort, groupAlive, isAlive, killGroup } from "../test/support/processes.ts";
import { waitFor } from "../test/support/wait.ts";
import { type LocalStackState, readStackState } from "./local-stack/state-file.ts";

const STARTUP_MS = 240_000;

describe.skipIf(!modelPresent())("npm start when its GPU service dies", () => {
  const stackDir = mkdtempSync(join(tmpdir(), "start-e2e-"));
  const stateFile = join(stackDir, "local-stack.json");
  let supervisor: ChildProcess;
  let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  let output = "";
  let gpuPort: number;
  let edgePort: number;
  let devKey: string;
  let first: LocalStackState;
  const seenPids = new Set<number>();

  const state = () => {
    const current = readStackState(stateFile);
    for (const pid of [current?.gpuPid, current?.edgePid]) if (pid) seenPids.add(pid);
    return current;
  };

  /** Runs `npm start` on this test's ports and folder, resolving once it printed its instructions. */
  async function startStack(): Promise<void> {
    const from = output.length;
    supervisor = spawn(process.execPath, ["tools/start.ts"], {
      env: {
        ...process.env,
        GPU_PORT: String(gpuPort),
        EDGE_PORT: String(edgePort),
        LOCAL_STACK_DIR: stackDir,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const child = supervisor;
    exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    await waitFor(
      "npm start to print its instructions",
      () => output.slice(from).includes("clip-edge is running") || undefined,
      { timeoutMs: STARTUP_MS, intervalMs: 250 },
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n${output.slice(-4000)}`);
    });
  }

  beforeAll(async () => {
    gpuPort = await freePort();
    edgePort = await waitFor("a second free port", async () => {
      const port = await freePort();
      return port !== gpuPort && port;
    });
    await startStack();
    devKey = (JSON.parse(readFileSync(join(stackDir, "dev-key.json"), "utf8")) as { key: string }).key;
  }, STARTUP_MS + 30_000);

  afterAll(async () => {
    // Only matters when a test failed half-way: nothing of this stack may outlive the run.
    state();
    if (supervisor?.exitCode === null && supervisor.signalCode === null) {
      supervisor.kill("SIGCONT");
      supervisor.kill("SIGKILL");
    }
    for (const pid of seenPids) killGroup(pid);
    if (process.env.START_E2E_LOG) writeFileSync(process.env.START_E2E_LOG, output);
    rmSync(stackDir, { recursive: true, force: true });
  });

  const edgeUrl = () => `http://127.0.0.1:${edgePort}`;
  const classify = () => {
    const form = new FormData();
    form.append(
      "image",
      new Blob([readFileSync("examples/red-circle.jpg")], { type: "image/jpeg" }),
      "red-circle.jpg",
    );
    for (const label of ["red circle", "blue star", "yellow square"]) form.append("labels", label);
    return fetch(`${edgeUrl()}/v1/classify`, {
      method: "POST",
      headers: { authorization: `Bearer ${devKey}` },
      body: form,
    });
  };
  const embedCachedText = () =>
    fetch(`${edgeUrl()}/v1/embeddings`, {
      method: "POST",
      headers: { authorization: `Bearer ${devKey}`, "content-type": "application/json" },
      body: JSON.stringify({ input: ["a red circle, cached"] }),
    });
  const answers = (url: string) =>
    fetch(url).then(
      async (response) => {
        await response.body?.cancel();
        return response.status;
      },
      () => undefined,
    );

  it("records both tiers in the state file and serves GPU work", async () => {
    first = state() as LocalStackState;
    expect(first).toMatchObject({
      edgeUrl: edgeUrl(),
      gpuUrl: `http://127.0.0.1:${gpuPort}`,
      gpuPid: expect.any(Number),
      edgePid: expect.any(Number),
      supervisorPid: supervisor.pid,
    });
    expect(isAlive(first.gpuPid as number)).toBe(true);
    expect(isAlive(first.edgePid as number)).toBe(true);
    expect((await classify()).status).toBe(200);
    // Computed by the GPU tier now, from the text cache later.
    expect((await embedCachedText()).status).toBe(200);
  });

  it("keeps the edge answering, with 503 + Retry-After for GPU work, while the GPU service is down", {
    timeout: 120_000,
  }, async () => {
    // Frozen, the supervisor cannot restart the GPU service before we have looked: the edge is on its own.
    supervisor.kill("SIGSTOP");
    try {
      process.kill(first.gpuPid as number, "SIGKILL");
      await waitFor(
        "the GPU port to close",
        async () => (await answers(`${first.gpuUrl}/readyz`)) === undefined,
      );
      expect(await answers(`${edgeUrl()}/healthz`)).toBe(200);
      const response = await classify();
      expect(response.status).toBe(503);
      expect(Number(response.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      expect(response.headers.get("content-type")).toBe("application/problem+json");
      expect(await response.json()).toMatchObject({ status: 503, code: "gpu_unavailable" });
      const cached = await embedCachedText();
      expect(cached.status).toBe(200);
      expect(await cached.json()).toMatchObject({ usage: { texts_cached: 1 } });
    } finally {
      supervisor.kill("SIGCONT");
    }
  });

  it("restarts the GPU service, logs it and serves GPU work again", { timeout: 240_000 }, async () => {
    await waitFor("the restart line", () =>
      output.includes("[start] gpu exited (signal SIGKILL); restarting in 0.5 s (restart 1)\n"),
    );
    const ready = new RegExp(
      `\\[start\\] gpu is ready again on http://127\\.0\\.0\\.1:${gpuPort} \\(down \\d+\\.\\d s\\)\\n`,
    );
    await waitFor("the GPU service ready again", () => ready.test(output), { timeoutMs: 120_000 });
    const now = state() as LocalStackState;
    expect(now.gpuPid).not.toBe(first.gpuPid);
    expect(isAlive(now.gpuPid as number)).toBe(true);
    expect(now.edgePid).toBe(first.edgePid);
    // The edge may keep the backend's circuit open for a few seconds after the outage.
    const body = await waitFor(
      "a classify answered 200",
      async () => {
        const response = await classify();
        return response.status === 200
          ? ((await response.json()) as { results: { labels: { label: string }[] }[] })
          : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    expect(body.results[0]?.labels[0]?.label).toBe("red circle");
  });

  it("after a supervisor killed with SIGKILL, the next npm start stops what it left and starts afresh", {
    timeout: STARTUP_MS + 60_000,
  }, async () => {
    const orphaned = state() as LocalStackState;
    const orphans = [orphaned.gpuPid as number, orphaned.edgePid as number];
    supervisor.kill("SIGKILL");
    await exited;
    // Orphaned: they outlive their supervisor, holding the ports.
    expect(orphans.map((pid) => groupAlive(pid))).toEqual([true, true]);

    const before = output.length;
    await startStack();
    const log = output.slice(before);
    expect(log).toMatch(
      new RegExp(`\\[start\\] stopped gpu left running by a previous npm start \\(pid ${orphans[0]}\\)`),
    );
    expect(log).toMatch(
      new RegExp(
        `\\[start\\] stopped edge left running by a previous npm start \\(pid [\\d, ]*${orphans[1]}`,
      ),
    );
    expect(log).not.toContain("already running");
    // Only zombies could be left, until init reaps them.
    await waitFor("the orphans reaped", () => orphans.every((pid) => !groupAlive(pid)));
    const now = state() as LocalStackState;
    expect(now.supervisorPid).toBe(supervisor.pid);
    expect((await classify()).status).toBe(200);
  });

  it("stops everything on one SIGINT, restarting nothing, and removes the state file", {
    timeout: 120_000,
  }, async () => {
    const last = state() as LocalStackState;
    const before = output.length;
    supervisor.kill("SIGINT");
    const exit = await Promise.race([
      exited,
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error(`still running:\n${output.slice(-2000)}`)), 60_000),
      ),
    ]);
    expect(exit).toEqual({ code: 0, signal: null });
    const after = output.slice(before);
    expect(after).toContain("[start] SIGINT: stopping postgres, gpu and edge");
    expect(after).toContain("[start] stopped");
    expect(after).not.toContain("restarting");
    // Each child led its own process group (wrangler's workerd included); orphans are gone once init reaped them.
    await waitFor("every process of the stack gone", () =>
      [last.gpuPid as number, last.edgePid as number].every((pid) => !groupAlive(pid)),
    );
    expect(existsSync(stateFile)).toBe(false);
  });
});
