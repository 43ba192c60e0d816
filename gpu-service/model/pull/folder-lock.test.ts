import { spawn } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { waitFor } from "../../../test/support/wait.ts";
import {
  type LockOwner,
  lockModelFolder,
  lockPathOf,
  ownerOfThisProcess,
  startTicksOf,
} from "./folder-lock.ts";

const root = mkdtempSync(join(tmpdir(), "folder-lock-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const children: { kill(): void }[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill();
});

function freshFolder(): string {
  return mkdtempSync(join(root, "model-"));
}

/** Puts a lock file in `dir` as another process would have left it. */
function forgeLock(dir: string, owner: Partial<LockOwner>): string {
  const path = lockPathOf(dir);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify({ ...ownerOfThisProcess(), ...owner }));
  return path;
}

/** A real process that runs until the test ends, and its pid. */
async function liveProcess(): Promise<number> {
  const child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
  children.push(child);
  await new Promise((resolve) => child.once("spawn", resolve));
  return child.pid as number;
}

/** The pid of a process that has exited and been reaped. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
  await new Promise((resolve) => child.once("close", resolve));
  return child.pid as number;
}

describe("lockModelFolder", () => {
  it("lets one holder in at a time within a process: the second waits until the first releases", async () => {
    const dir = freshFolder();
    const first = await lockModelFolder(dir, { wait: false });
    if (!first.ok) throw new Error(first.error.message);

    const refused = await lockModelFolder(dir, { wait: false });
    expect(refused.ok || refused.error).toMatchObject({
      code: "locked",
      message: expect.stringContaining(`pulled into by pid ${process.pid}`),
    });

    let waiting!: () => void;
    const waits = new Promise<void>((resolve) => (waiting = resolve));
    let secondHolds = false;
    const second = lockModelFolder(dir, { wait: true, pollMs: 10, onWait: () => waiting() }).then((lock) => {
      secondHolds = true;
      return lock;
    });
    await waits;
    expect(secondHolds).toBe(false);
    await first.value.release();
    const taken = await second;
    expect(taken.ok).toBe(true);
    if (taken.ok) await taken.value.release();
    expect(existsSync(lockPathOf(dir))).toBe(false);
  });

  it("fails clearly, naming the holder, when another live process holds the folder and the caller will not wait", async () => {
    const dir = freshFolder();
    const pid = await liveProcess();
    const path = forgeLock(dir, { pid, startTicks: startTicksOf(pid) });
    const result = await lockModelFolder(dir, { wait: false });
    expect(result.ok || result.error).toMatchObject({
      code: "locked",
      message: expect.stringContaining(`pid ${pid} on `),
    });
    expect(JSON.parse(readFileSync(path, "utf8")).pid).toBe(pid);
  });

  it("takes over a lock whose pid is no longer running", async () => {
    const dir = freshFolder();
    const pid = await deadPid();
    forgeLock(dir, { pid, startTicks: null });
    const takeovers: string[] = [];
    const result = await lockModelFolder(dir, { wait: false, onTakeover: (why) => takeovers.push(why) });
    expect(takeovers).toEqual([`pid ${pid} is no longer running`]);
    if (!result.ok) throw new Error(result.error.message);
    expect(JSON.parse(readFileSync(lockPathOf(dir), "utf8")).pid).toBe(process.pid);
    await result.value.release();
  });

  it.skipIf(startTicksOf(process.pid) === null)(
    "takes over a lock whose pid now belongs to a process started at another time (a restarted container's pid 1)",
    async () => {
      const dir = freshFolder();
      forgeLock(dir, { pid: process.pid, startTicks: (startTicksOf(process.pid) as number) - 1 });
      const takeovers: string[] = [];
      const result = await lockModelFolder(dir, { wait: false, onTakeover: (why) => takeovers.push(why) });
      expect(takeovers).toEqual([`pid ${process.pid} is now another process (the lock's holder is gone)`]);
      expect(result.ok).toBe(true);
      if (result.ok) await result.value.release();
    },
  );

  it("takes over a lock from before this machine restarted, whatever its pid", async () => {
    const dir = freshFolder();
    const me = ownerOfThisProcess();
    forgeLock(dir, { pid: await liveProcess(), bootId: `${me.bootId ?? "boot"}-before` });
    const takeovers: string[] = [];
    const result = await lockModelFolder(dir, { wait: false, onTakeover: (why) => takeovers.push(why) });
    if (me.bootId === null) {
      // Without a boot id (not Linux) the lock reads as another machine's, refreshed just now: respected.
      expect(result.ok).toBe(false);
      return;
    }
    expect(takeovers).toHaveLength(1);
    expect(takeovers[0]).toContain("from before this machine restarted");
    if (result.ok) await result.value.release();
  });

  it("respects another machine's lock while it is refreshed, and takes it over once it is not", async () => {
    const dir = freshFolder();
    const path = forgeLock(dir, { pid: 1, hostname: "another-host", bootId: "another-boot" });
    const fresh = await lockModelFolder(dir, { wait: false, staleAfterMs: 60_000 });
    expect(fresh.ok || fresh.error.code).toBe("locked");

    const longAgo = new Date(Date.now() - 5 * 60_000);
    utimesSync(path, longAgo, longAgo);
    const takeovers: string[] = [];
    const stale = await lockModelFolder(dir, {
      wait: false,
      staleAfterMs: 60_000,
      onTakeover: (why) => takeovers.push(why),
    });
    expect(takeovers).toHaveLength(1);
    expect(takeovers[0]).toMatch(/^the lock of pid 1 on another-host was not refreshed for \d+ s$/);
    expect(stale.ok).toBe(true);
    if (stale.ok) await stale.value.release();
  });

  it("refreshes its lock while held, so other machines do not take it over", async () => {
    const dir = freshFolder();
    const lock = await lockModelFolder(dir, { wait: false, heartbeatMs: 20 });
    if (!lock.ok) throw new Error(lock.error.message);
    const longAgo = new Date(Date.now() - 5 * 60_000);
    utimesSync(lockPathOf(dir), longAgo, longAgo);
    await waitFor(
      "the heartbeat to touch the lock",
      () => statSync(lockPathOf(dir)).mtimeMs > longAgo.getTime(),
    );
    await lock.value.release();
  });

  it("leaves a lock that is no longer its own when it releases", async () => {
    const dir = freshFolder();
    const lock = await lockModelFolder(dir, { wait: false });
    if (!lock.ok) throw new Error(lock.error.message);
    const path = forgeLock(dir, { pid: 1, hostname: "another-host" });
    await lock.value.release();
    expect(JSON.parse(readFileSync(path, "utf8")).hostname).toBe("another-host");
  });

  it("stops waiting when its signal fires", async () => {
    const dir = freshFolder();
    forgeLock(dir, { pid: await liveProcess(), startTicks: null });
    const controller = new AbortController();
    const result = lockModelFolder(dir, {
      wait: true,
      pollMs: 10,
      signal: controller.signal,
      onWait: () => controller.abort(),
    });
    expect(await result).toMatchObject({ ok: false, error: { code: "cancelled" } });
  });
});
