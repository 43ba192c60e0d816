import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { freePort, groupAlive, isAlive, killGroup } from "../../test/support/processes.ts";
import { waitFor } from "../../test/support/wait.ts";
import {
  canVerifyProcesses,
  commandLine,
  groupMembers,
  isOurSupervisor,
  reapStaleStack,
} from "./stale-stack.ts";

// Real processes throughout: a stand-in supervisor that is SIGKILLed, leaving its detached children (and their own
// children) behind, as a crashed `npm start` would; and a real supervisor that dies of an uncaught error.

const scratch = mkdtempSync(join(tmpdir(), "stale-stack-test-"));
const leftovers: number[] = [];
afterEach(() => {
  for (const pgid of leftovers.splice(0)) killGroup(pgid);
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const IDLE = "setInterval(() => {}, 1000)";
const specs = [
  { name: "gpu", processMarkers: ["stale-stack-test-gpu"] },
  { name: "edge", processMarkers: ["stale-stack-test-edge", "stale-stack-test-workerd"] },
];

/** Resolves with the first line of the child's stdout that matches, parsed by `read`. */
function firstLine<T>(child: ChildProcess, read: (line: string) => T | undefined): Promise<T> {
  // Collected as it comes: the child may exit right after it has written (the crash test), and a paused pipe read
  // by polling can miss output that arrived together with the end of the stream.
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  return waitFor("the child's report", () => {
    for (const line of output.split("\n")) {
      const value = read(line);
      if (value !== undefined) return value;
    }
    return undefined;
  });
}

function detached(args: string[]): ChildProcess {
  const child = spawn(process.execPath, args, { detached: true, stdio: "ignore" });
  child.unref();
  leftovers.push(child.pid as number);
  return child;
}

describe.skipIf(!canVerifyProcesses())("a stack left behind by a supervisor that died", () => {
  it("stops the recorded children's whole process groups once their command lines are ours", async () => {
    // The stand-in supervisor: starts gpu and edge in their own groups (edge with a workerd-like child), then waits.
    const code = `
      const { spawn } = require("node:child_process");
      const start = (args) => spawn(process.execPath, args, { detached: true, stdio: "ignore" });
      const gpu = start(["-e", ${JSON.stringify(IDLE)}, "stale-stack-test-gpu"]);
      const edge = start(["-e", \`require("node:child_process").spawn(process.execPath, ["-e", ${JSON.stringify(IDLE)}, "stale-stack-test-workerd"], { stdio: "ignore" }); ${IDLE}\`, "stale-stack-test-edge"]);
      console.log(JSON.stringify({ gpu: gpu.pid, edge: edge.pid }));
      ${IDLE}`;
    const supervisor = spawn(process.execPath, ["-e", code], { stdio: ["ignore", "pipe", "inherit"] });
    const pids = await firstLine(supervisor, (line) =>
      line.startsWith("{") ? (JSON.parse(line) as { gpu: number; edge: number }) : undefined,
    );
    leftovers.push(pids.gpu, pids.edge);
    const edgeMembers = await waitFor("the edge's own child", () => {
      const members = groupMembers(pids.edge).map((m) => m.pid);
      return members.length === 2 && members;
    });
    supervisor.kill("SIGKILL");
    await new Promise((resolve) => supervisor.once("exit", resolve));
    expect(isOurSupervisor(supervisor.pid as number)).toBe(false);
    expect([groupAlive(pids.gpu), groupAlive(pids.edge)]).toEqual([true, true]);

    const outcomes = await reapStaleStack({ gpuPid: pids.gpu, edgePid: pids.edge }, specs, {
      graceMs: 2_000,
    });
    expect(outcomes).toEqual([
      { name: "gpu", kind: "reaped", pids: [pids.gpu] },
      { name: "edge", kind: "reaped", pids: edgeMembers },
    ]);
    for (const pid of [pids.gpu, ...edgeMembers]) expect(commandLine(pid), String(pid)).toBeUndefined();
  });

  it("leaves alone a recorded pid that now runs something else, and reports a child already gone", async () => {
    const stranger = detached(["-e", IDLE, "not-part-of-any-stack"]);
    const gone = detached(["-e", "process.exit(0)", "stale-stack-test-edge"]);
    await waitFor("the short-lived child to exit", () => !isAlive(gone.pid as number));
    const outcomes = await reapStaleStack(
      { gpuPid: stranger.pid as number, edgePid: gone.pid as number },
      specs,
    );
    expect(outcomes).toEqual([
      { name: "gpu", kind: "not-ours", pids: [stranger.pid] },
      { name: "edge", kind: "gone" },
    ]);
    expect(isAlive(stranger.pid as number)).toBe(true);
    expect(await reapStaleStack({ gpuPid: null, edgePid: null }, specs)).toEqual([
      { name: "gpu", kind: "gone" },
      { name: "edge", kind: "gone" },
    ]);
  });

  it("reaps a recorded local Postgres like the other children, and skips it in a file from before it existed", async () => {
    const postgres = detached(["-e", IDLE, "stale-stack-test-postgres"]);
    await waitFor("it to run", () => commandLine(postgres.pid as number));
    const withPostgres = [...specs, { name: "postgres", processMarkers: ["stale-stack-test-postgres"] }];
    expect(
      await reapStaleStack(
        { gpuPid: null, edgePid: null, postgresPid: postgres.pid as number },
        withPostgres,
        {
          graceMs: 2_000,
        },
      ),
    ).toEqual([
      { name: "gpu", kind: "gone" },
      { name: "edge", kind: "gone" },
      { name: "postgres", kind: "reaped", pids: [postgres.pid] },
    ]);
    expect(await reapStaleStack({ gpuPid: null, edgePid: null }, withPostgres)).toContainEqual({
      name: "postgres",
      kind: "gone",
    });
  });

  it("recognises a live supervisor by its command line, not by its pid alone", async () => {
    const ours = detached(["-e", IDLE, "tools/start.ts"]);
    const reused = detached(["-e", IDLE]);
    await waitFor("both to run", () => commandLine(ours.pid as number) && commandLine(reused.pid as number));
    expect(isOurSupervisor(ours.pid as number)).toBe(true);
    expect(isOurSupervisor(reused.pid as number)).toBe(false);
    expect(isOurSupervisor(process.pid)).toBe(false);
  });
});

describe("a supervisor that crashes", () => {
  it("takes its children's process groups down with it", async () => {
    const port = await freePort();
    const script = join(scratch, "crashing-supervisor.mjs");
    const supervisorModule = new URL("./supervisor.ts", import.meta.url).pathname;
    const server = `require("node:http").createServer((q, s) => s.end("ok")).listen(${port}, "127.0.0.1")`;
    writeFileSync(
      script,
      `import { createSupervisor } from ${JSON.stringify(supervisorModule)};
      const supervisor = createSupervisor(
        [{ name: "gpu", command: process.execPath, args: ["-e", ${JSON.stringify(server)}], url: "http://127.0.0.1:${port}", readyPath: "/readyz" }],
        { output: () => {}, readyPollMs: 20 },
      );
      if (await supervisor.start()) {
        console.log("child " + supervisor.pid("gpu"));
        setTimeout(() => { throw new Error("a bug in the supervisor"); }, 50);
      }`,
    );
    const crashing = spawn(process.execPath, [script], { stdio: ["ignore", "pipe", "pipe"] });
    const exited = new Promise<number | null>((resolve) => crashing.once("exit", resolve));
    const child = await firstLine(crashing, (line) => Number(/^child (\d+)$/.exec(line)?.[1]) || undefined);
    leftovers.push(child);
    expect(await exited).toBe(1);
    await waitFor("the child's process group to be gone", () => !groupAlive(child));
  });
});
