import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { freePort, groupAlive, isAlive } from "../../test/support/processes.ts";
import { waitFor } from "../../test/support/wait.ts";
import {
  createSupervisor,
  DEFAULT_RESTART_POLICY,
  describeEvent,
  type RestartPolicy,
  restartDelay,
  type ServiceSpec,
  type Supervisor,
  type SupervisorEvent,
  type SupervisorOptions,
} from "./supervisor.ts";

// Real child processes throughout: tiny `node -e` HTTP servers that answer /readyz, then exit, get killed, ignore
// SIGTERM or leave a grandchild behind, as the GPU service and wrangler might.

const scratch = mkdtempSync(join(tmpdir(), "supervisor-test-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A service whose script runs `before` at start and `onFirstRequest` once its first request was answered. */
async function service(
  name: string,
  script: { before?: string; onFirstRequest?: string; status?: string } = {},
) {
  const port = await freePort();
  const code = `
    const http = require("node:http");
    const fs = require("node:fs");
    ${script.before ?? ""}
    let answered = false;
    http.createServer((request, response) => {
      response.statusCode = ${script.status ?? "200"};
      response.end("ok");
      if (!answered) { answered = true; ${script.onFirstRequest ?? ""} }
    }).listen(Number(process.env.PORT), "127.0.0.1");`;
  const spec: ServiceSpec = {
    name,
    command: process.execPath,
    args: ["-e", code],
    env: { PORT: String(port) },
    url: `http://127.0.0.1:${port}`,
    readyPath: "/readyz",
  };
  return spec;
}

const FAST: RestartPolicy = { firstDelayMs: 40, maxDelayMs: 160, stableAfterMs: 60_000 };
const running: Supervisor[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((supervisor) => supervisor.stop()));
});

function supervise(services: ServiceSpec[], options: SupervisorOptions = {}) {
  const events: SupervisorEvent[] = [];
  const lines: string[] = [];
  const supervisor = createSupervisor(services, {
    policy: FAST,
    readyPollMs: 20,
    stopGraceMs: 2_000,
    onEvent: (event) => events.push(event),
    output: (name, line) => lines.push(`${name}: ${line}`),
    ...options,
  });
  running.push(supervisor);
  const exits = () =>
    events.filter((e): e is Extract<SupervisorEvent, { kind: "exited" }> => e.kind === "exited");
  return { supervisor, events, lines, exits };
}

describe("restartDelay", () => {
  it("doubles from 0.5 s and stays at 30 s", () => {
    const delays = [1, 2, 3, 4, 5, 6, 7, 8, 20].map((n) => restartDelay(n, DEFAULT_RESTART_POLICY));
    expect(delays).toEqual([500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  });
});

describe("describeEvent", () => {
  it("writes the restart and recovery lines npm start prints", () => {
    expect(
      describeEvent({
        kind: "exited",
        name: "gpu",
        pid: 1234,
        code: null,
        signal: "SIGKILL",
        planned: false,
        restart: { number: 2, delayMs: 1000 },
      }),
    ).toBe("gpu exited (signal SIGKILL); restarting in 1.0 s (restart 2)");
    expect(describeEvent({ kind: "ready", name: "gpu", url: "http://127.0.0.1:8788", downMs: 6300 })).toBe(
      "gpu is ready again on http://127.0.0.1:8788 (down 6.3 s)",
    );
    expect(describeEvent({ kind: "ready", name: "edge", url: "http://127.0.0.1:8787" })).toBe(
      "edge is ready on http://127.0.0.1:8787",
    );
    expect(
      describeEvent({ kind: "exited", name: "edge", pid: 1, code: 0, signal: null, planned: true }),
    ).toBe("edge stopped (code 0)");
    expect(
      describeEvent({ kind: "failed", name: "gpu", message: "gpu exited (code 2) before it was ready" }),
    ).toBe("gpu exited (code 2) before it was ready; stopping");
  });
});

describe("createSupervisor", () => {
  it("restarts a killed service, leaves the others alone and reports it ready again", async () => {
    const { supervisor, events, exits } = supervise([await service("gpu"), await service("edge")]);
    expect(await supervisor.start()).toBe(true);
    const gpuPid = supervisor.pid("gpu") as number;
    const edgePid = supervisor.pid("edge") as number;
    process.kill(gpuPid, "SIGKILL");
    const back = await waitFor("gpu ready again", () =>
      events.find((e) => e.kind === "ready" && e.name === "gpu" && e.downMs !== undefined),
    );
    expect(back).toMatchObject({ kind: "ready", name: "gpu", downMs: expect.any(Number) });
    expect(exits()).toEqual([
      expect.objectContaining({
        name: "gpu",
        pid: gpuPid,
        signal: "SIGKILL",
        planned: false,
        restart: { number: 1, delayMs: 40 },
      }),
    ]);
    const newPid = supervisor.pid("gpu") as number;
    expect(newPid).not.toBe(gpuPid);
    expect(isAlive(newPid)).toBe(true);
    expect(supervisor.pid("edge")).toBe(edgePid);
    expect(events.filter((e) => e.kind === "spawned").map((e) => e.kind === "spawned" && e.pid)).toEqual([
      gpuPid,
      edgePid,
      newPid,
    ]);
  });

  it("runs a service with niceness at that CPU priority, threads included, and the others at their own", async () => {
    // Each reports the nice value of every thread it has (worker threads started after launch among them).
    const report = `
      const { Worker } = require("node:worker_threads");
      new Worker("setInterval(() => {}, 1000)", { eval: true });`;
    const lower = { ...(await service("gpu", { before: report })), niceness: 7 };
    const { supervisor } = supervise([lower, await service("edge")]);
    expect(await supervisor.start()).toBe(true);
    const niceOf = (pid: number) =>
      readdirSync(`/proc/${pid}/task`).map((tid) =>
        Number(readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8").split(") ")[1]?.split(" ")[16]),
      );
    const gpuPid = supervisor.pid("gpu") as number;
    await waitFor("the worker thread to start", () => readdirSync(`/proc/${gpuPid}/task`).length > 1);
    const own = niceOf(process.pid)[0] as number; // the test may itself run below normal priority
    expect(new Set(niceOf(gpuPid))).toEqual(new Set([Math.min(19, own + 7)]));
    expect(new Set(niceOf(supervisor.pid("edge") as number))).toEqual(new Set([own]));
  });

  it("restarts a service stopped by SIGTERM from outside", async () => {
    const { supervisor, exits } = supervise([await service("gpu")]);
    expect(await supervisor.start()).toBe(true);
    process.kill(supervisor.pid("gpu") as number, "SIGTERM");
    await waitFor("a restart", () => exits()[0]);
    expect(exits()[0]).toMatchObject({ signal: "SIGTERM", restart: { number: 1 } });
    const pid = await waitFor("the new gpu pid", () => supervisor.pid("gpu"));
    expect(isAlive(pid)).toBe(true);
  });

  it("doubles the delay up to the cap while a service keeps dying young", async () => {
    const { supervisor, exits } = supervise([
      await service("gpu", { onFirstRequest: "setTimeout(() => process.exit(3), 300);" }),
    ]);
    expect(await supervisor.start()).toBe(true);
    await waitFor("five exits", () => exits().length >= 5, { timeoutMs: 60_000 });
    expect(
      exits()
        .slice(0, 5)
        .map((e) => [e.code, e.restart?.number, e.restart?.delayMs]),
    ).toEqual([
      [3, 1, 40],
      [3, 2, 80],
      [3, 3, 160],
      [3, 4, 160],
      [3, 5, 160],
    ]);
  });

  it("starts the backoff again after a run that stayed up past stableAfterMs", async () => {
    const { supervisor, exits } = supervise(
      [await service("gpu", { onFirstRequest: "setTimeout(() => process.exit(3), 400);" })],
      { policy: { ...FAST, stableAfterMs: 200 } },
    );
    expect(await supervisor.start()).toBe(true);
    await waitFor("three exits", () => exits().length >= 3, { timeoutMs: 60_000 });
    expect(
      exits()
        .slice(0, 3)
        .map((e) => e.restart),
    ).toEqual([
      { number: 1, delayMs: 40 },
      { number: 1, delayMs: 40 },
      { number: 1, delayMs: 40 },
    ]);
  });

  it("kills a restarted service that never gets ready, and restarts it again", async () => {
    const marker = join(scratch, "ran-once");
    const { supervisor, events, exits } = supervise(
      [
        await service("gpu", {
          before: `const fresh = !fs.existsSync(${JSON.stringify(marker)}); fs.writeFileSync(${JSON.stringify(marker)}, "");`,
          status: "fresh ? 200 : 503",
        }),
      ],
      { readyTimeoutMs: 300 },
    );
    expect(await supervisor.start()).toBe(true);
    process.kill(supervisor.pid("gpu") as number, "SIGKILL");
    await waitFor("a second exit", () => exits().length >= 2, { timeoutMs: 60_000 });
    expect(events.some((e) => e.kind === "not-ready" && e.name === "gpu")).toBe(true);
    expect(exits()[1]).toMatchObject({ signal: "SIGKILL", restart: { number: 2, delayMs: 80 } });
  });

  it("kills what a crashed service left in its process group before restarting it", async () => {
    const { supervisor, lines } = supervise([
      await service("edge", {
        before: `const c = require("node:child_process").spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
          console.log("grandchild " + c.pid);`,
      }),
    ]);
    expect(await supervisor.start()).toBe(true);
    const grandchild = (line: string | undefined) => Number(/grandchild (\d+)/.exec(line ?? "")?.[1]);
    const first = await waitFor("the first grandchild", () => grandchild(lines[0]) || undefined);
    const leader = supervisor.pid("edge") as number;
    process.kill(leader, "SIGKILL");
    await waitFor("the first grandchild gone", () => !isAlive(first));
    expect(groupAlive(leader)).toBe(false);
    const second = await waitFor("the second grandchild", () => grandchild(lines[1]) || undefined);
    const secondLeader = supervisor.pid("edge") as number;
    expect(groupAlive(secondLeader)).toBe(true);
    await supervisor.stop();
    // SIGKILLed at once; the orphan is gone once init has reaped it.
    await waitFor("the second grandchild gone", () => !isAlive(second));
    expect(groupAlive(secondLeader)).toBe(false);
  });

  it("stops everything on stop(), cancelling a pending restart", async () => {
    const { supervisor, events, exits } = supervise([await service("gpu"), await service("edge")], {
      policy: { ...FAST, firstDelayMs: 300 },
    });
    expect(await supervisor.start()).toBe(true);
    const edgePid = supervisor.pid("edge") as number;
    process.kill(supervisor.pid("gpu") as number, "SIGKILL");
    await waitFor("the gpu exit", () => exits()[0]?.restart);
    const spawnedBefore = events.filter((e) => e.kind === "spawned").length;
    await supervisor.stop();
    expect(await supervisor.done).toEqual({ kind: "requested" });
    expect(isAlive(edgePid)).toBe(false);
    expect(exits()[1]).toMatchObject({ name: "edge", planned: true, signal: "SIGTERM" });
    // Past the moment the cancelled restart would have run: nothing was spawned behind the stop.
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(events.filter((e) => e.kind === "spawned")).toHaveLength(spawnedBefore);
    expect(supervisor.pid("gpu")).toBeUndefined();
  });

  it("SIGKILLs a child that ignores SIGTERM once the grace period is over", async () => {
    const { supervisor, exits } = supervise(
      [await service("gpu", { before: `process.on("SIGTERM", () => {});` })],
      {
        stopGraceMs: 300,
      },
    );
    expect(await supervisor.start()).toBe(true);
    const pid = supervisor.pid("gpu") as number;
    await supervisor.stop();
    expect(isAlive(pid)).toBe(false);
    expect(exits()).toEqual([expect.objectContaining({ planned: true, signal: "SIGKILL" })]);
  });

  it("gives a service with its own grace period that long, and the others the default", async () => {
    // The GPU service's drain: it takes a while after SIGTERM, then exits 0 on its own.
    const draining = {
      ...(await service("gpu", {
        before: `process.on("SIGTERM", () => setTimeout(() => process.exit(0), 1_000));`,
      })),
      stopGraceMs: 120_000,
    };
    const stubborn = await service("edge", { before: `process.on("SIGTERM", () => {});` });
    const { supervisor, exits } = supervise([draining, stubborn], { stopGraceMs: 300 });
    expect(await supervisor.start()).toBe(true);
    await supervisor.stop();
    expect(exits().find((e) => e.name === "gpu")).toMatchObject({ planned: true, code: 0, signal: null });
    expect(exits().find((e) => e.name === "edge")).toMatchObject({ planned: true, signal: "SIGKILL" });
  });

  it("kill() ends a stop that is still waiting out the grace period (a second Ctrl-C)", async () => {
    const { supervisor, exits } = supervise(
      [await service("gpu", { before: `process.on("SIGTERM", () => {});` })],
      {
        stopGraceMs: 600_000,
      },
    );
    expect(await supervisor.start()).toBe(true);
    const stopped = supervisor.stop();
    supervisor.kill();
    await stopped;
    expect(await supervisor.done).toEqual({ kind: "requested" });
    expect(exits()).toEqual([expect.objectContaining({ planned: true, signal: "SIGKILL" })]);
  });

  it("stops the stack when a service exits before it was ever ready", async () => {
    const healthy = await service("edge");
    const { supervisor, events } = supervise([await service("gpu", { before: "process.exit(2);" }), healthy]);
    expect(await supervisor.start()).toBe(false);
    expect(await supervisor.done).toEqual({
      kind: "failed",
      name: "gpu",
      message: "gpu exited (code 2) before it was ready",
      exitCode: 2,
    });
    expect(events.filter((e) => e.kind === "exited" && e.restart)).toEqual([]);
    expect(supervisor.pid("edge")).toBeUndefined();
    const edgeSpawn = events.find((e) => e.kind === "spawned" && e.name === "edge");
    if (edgeSpawn?.kind === "spawned") expect(isAlive(edgeSpawn.pid)).toBe(false);
  });

  it("stops the stack when a service never gets ready at first start", async () => {
    const { supervisor, events } = supervise([await service("gpu", { status: "503" })], {
      readyTimeoutMs: 300,
    });
    expect(await supervisor.start()).toBe(false);
    expect(await supervisor.done).toEqual({
      kind: "failed",
      name: "gpu",
      message: "gpu did not answer /readyz within 0.3 s",
      exitCode: 1,
    });
    const spawned = events.find((e) => e.kind === "spawned");
    expect(spawned?.kind === "spawned" && isAlive(spawned.pid)).toBe(false);
  });

  it("with a tcp probe, waits until the port accepts connections (the local Postgres listens once migrated)", async () => {
    const port = await freePort();
    // Listens only after a while, as the local Postgres does after its migrations.
    const code = `setTimeout(() => require("node:net").createServer((s) => s.end()).listen(${port}, "127.0.0.1"), 300);`;
    const spec: ServiceSpec = {
      name: "postgres",
      command: process.execPath,
      args: ["-e", code],
      url: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`,
      readyPath: "",
      probe: "tcp",
    };
    const { supervisor, events } = supervise([spec]);
    expect(await supervisor.start()).toBe(true);
    expect(events.find((e) => e.kind === "ready")).toMatchObject({ name: "postgres", url: spec.url });
  });

  it("with a tcp probe, names what it waited for when the port never opens", async () => {
    const port = await freePort();
    const spec: ServiceSpec = {
      name: "postgres",
      command: process.execPath,
      args: ["-e", "setInterval(() => {}, 1000);"],
      url: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`,
      readyPath: "",
      probe: "tcp",
    };
    const { supervisor } = supervise([spec], { readyTimeoutMs: 300 });
    expect(await supervisor.start()).toBe(false);
    expect(await supervisor.done).toMatchObject({
      message: "postgres did not accept connections within 0.3 s",
    });
  });

  it("with restarts off, ends with the child's exit code", async () => {
    const { supervisor, events } = supervise([await service("gpu")], { restart: false });
    expect(await supervisor.start()).toBe(true);
    process.kill(supervisor.pid("gpu") as number, "SIGKILL");
    expect(await supervisor.done).toEqual({
      kind: "failed",
      name: "gpu",
      message: "gpu exited (signal SIGKILL)",
      exitCode: 137,
    });
    expect(events.filter((e) => e.kind === "spawned")).toHaveLength(1);
  });

  it("reports a command that cannot be spawned as a failure, not a crash", async () => {
    const missing = join(scratch, "no-such-command");
    expect(existsSync(missing)).toBe(false);
    const { supervisor } = supervise([{ ...(await service("gpu")), command: missing }]);
    expect(await supervisor.start()).toBe(false);
    expect(await supervisor.done).toMatchObject({ kind: "failed", name: "gpu" });
  });
});
