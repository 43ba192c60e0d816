import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { link, mkdir, readFile, rm, stat, unlink, utimes, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { STATE_DIR } from "./manifest.ts";
import { failure, filesystemProblem, type Outcome } from "./outcome.ts";

/** Who holds a lock: enough to tell, on the same machine, whether that process still runs. */
export interface LockOwner {
  pid: number;
  hostname: string;
  /** /proc/sys/kernel/random/boot_id: a lock from before a reboot is stale whatever its pid. */
  bootId: string | null;
  /** The process's start time in clock ticks since boot (/proc/<pid>/stat), so a reused pid is not mistaken for it. */
  startTicks: number | null;
  acquiredAt: string;
  /** Tells this lock apart from any later one, whatever the pid. */
  nonce: string;
}

export interface LockOptions {
  /** Wait while another live pull holds the folder (polling), or fail at once with code "locked". */
  wait: boolean;
  pollMs?: number;
  /** The holder touches the lock this often, so pulls on other machines sharing the folder can tell it lives. */
  heartbeatMs?: number;
  /** A lock from another machine (or unreadable) whose last touch is older than this is stale. */
  staleAfterMs?: number;
  signal?: AbortSignal;
  /** Called once, when this call starts waiting for `holder`. */
  onWait?: (holder: LockOwner, lockPath: string) => void;
  /** Called when a stale lock is removed, with why it was stale. */
  onTakeover?: (why: string) => void;
}

export interface FolderLock {
  readonly path: string;
  /** Removes the lock if it is still ours; safe to call twice. */
  release(): Promise<void>;
}

/** Where the lock of model folder `dir` lives. */
export function lockPathOf(dir: string): string {
  return join(dir, STATE_DIR, "lock");
}

/**
 * Takes the exclusive lock of a model folder, across processes and within one: `<dir>/.pull/lock`, created atomically
 * with its content (a hard link from a private temporary file, so nobody ever reads a half-written lock), holding the
 * owner's pid, host, boot id and process start time. A lock is taken over when it is stale: on this machine, when its
 * pid is gone, now belongs to a process started at another time (a restarted container is pid 1 again), or the
 * machine has rebooted since; from another machine, when it has not been touched for `staleAfterMs`.
 *
 * A folder that cannot be written (read-only, a file in the way) is code "filesystem", not a rejection.
 *
 * @example const lock = await lockModelFolder("models/clip", { wait: true }); try { … } finally { await lock.value.release() }
 */
export async function lockModelFolder(dir: string, options: LockOptions): Promise<Outcome<FolderLock>> {
  try {
    return await takeLock(dir, options);
  } catch (error) {
    const problem = filesystemProblem(error);
    if (problem === null) throw error;
    return failure("filesystem", `cannot lock ${dir}: ${problem} (the model folder must be writable)`);
  }
}

async function takeLock(dir: string, options: LockOptions): Promise<Outcome<FolderLock>> {
  const path = lockPathOf(dir);
  const pollMs = options.pollMs ?? 500;
  const staleAfterMs = options.staleAfterMs ?? 60_000;
  await mkdir(join(dir, STATE_DIR), { recursive: true });
  const me = ownerOfThisProcess();
  const mine = JSON.stringify(me);
  let waiting = false;
  for (;;) {
    if (options.signal?.aborted) return failure("cancelled", `${dir}: the pull was cancelled`);
    if (await createWith(path, mine)) {
      return { ok: true, value: holding(path, mine, options.heartbeatMs ?? 10_000) };
    }
    const seen = await readLock(path);
    if (seen === null) continue; // released between our attempt and the read
    const stale = staleness(seen, me, staleAfterMs);
    if (stale !== null) {
      options.onTakeover?.(stale);
      await removeIfUnchanged(path, seen, me, staleAfterMs);
      continue;
    }
    const holder = seen.owner as LockOwner;
    if (!options.wait)
      return failure(
        "locked",
        `${dir} is being pulled into by pid ${holder.pid} on ${holder.hostname} since ${holder.acquiredAt} ` +
          `(lock ${path}); wait for it, or remove the lock if that process is gone`,
      );
    if (!waiting) options.onWait?.(holder, path);
    waiting = true;
    await sleep(pollMs, options.signal);
  }
}

interface SeenLock {
  raw: string;
  owner: LockOwner | null;
  ino: number;
  mtimeMs: number;
}

function holding(path: string, mine: string, heartbeatMs: number): FolderLock {
  const heartbeat = setInterval(() => {
    const now = new Date();
    utimes(path, now, now).catch(() => {});
  }, heartbeatMs);
  heartbeat.unref();
  let released = false;
  return {
    path,
    async release() {
      if (released) return;
      released = true;
      clearInterval(heartbeat);
      // Only our own lock: if it was (wrongly) judged stale and taken over, the new holder's stays.
      if ((await readFile(path, "utf8").catch(() => null)) === mine) await rm(path, { force: true });
    },
  };
}

/** Creates `path` holding `content`, or returns false if it exists. link() fails with EEXIST atomically. */
async function createWith(path: string, content: string): Promise<boolean> {
  const temporary = `${path}.${process.pid}-${randomBytes(6).toString("hex")}`;
  await writeFile(temporary, content, { flag: "wx" });
  try {
    await link(temporary, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  } finally {
    await rm(temporary, { force: true });
  }
}

async function readLock(path: string): Promise<SeenLock | null> {
  try {
    const [raw, info] = await Promise.all([readFile(path, "utf8"), stat(path)]);
    return { raw, owner: parseOwner(raw), ino: info.ino, mtimeMs: info.mtimeMs };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
}

/** Why the lock `seen` is stale, or null when its holder may still be running. */
export function staleness(
  seen: { owner: LockOwner | null; mtimeMs: number },
  me: LockOwner,
  staleAfterMs: number,
  now = Date.now(),
): string | null {
  const idle = now - seen.mtimeMs;
  const { owner } = seen;
  if (owner === null)
    return idle > staleAfterMs ? `an unreadable lock untouched for ${Math.round(idle / 1000)} s` : null;
  const sameMachine = owner.hostname === me.hostname && (owner.bootId ?? "") === (me.bootId ?? "");
  if (owner.hostname === me.hostname && owner.bootId && me.bootId && owner.bootId !== me.bootId)
    return `pid ${owner.pid}'s lock is from before this machine restarted`;
  if (!sameMachine)
    return idle > staleAfterMs
      ? `the lock of pid ${owner.pid} on ${owner.hostname} was not refreshed for ${Math.round(idle / 1000)} s`
      : null;
  if (!processExists(owner.pid)) return `pid ${owner.pid} is no longer running`;
  const ticks = startTicksOf(owner.pid);
  if (owner.startTicks !== null && ticks !== null && ticks !== owner.startTicks)
    return `pid ${owner.pid} is now another process (the lock's holder is gone)`;
  return null;
}

/**
 * Removes a stale lock unless it changed since it was judged. Contenders serialise on `<lock>.takeover` (itself
 * created atomically), so a fresh lock created by one of them is never removed by another that judged the old one.
 * A takeover guard left by a crash is itself stale by the same rules; removing it is the one step two contenders
 * could race on, which needs a crash inside a takeover of a few microseconds.
 */
async function removeIfUnchanged(path: string, seen: SeenLock, me: LockOwner, staleAfterMs: number) {
  const guard = `${path}.takeover`;
  if (!(await createWith(guard, JSON.stringify(me)))) {
    const other = await readLock(guard);
    if (other !== null && staleness(other, me, staleAfterMs) !== null) await rm(guard, { force: true });
    await new Promise((resolve) => setTimeout(resolve, 10));
    return;
  }
  try {
    const now = await readLock(path);
    if (now !== null && now.raw === seen.raw && now.ino === seen.ino) await unlink(path);
  } finally {
    await rm(guard, { force: true });
  }
}

function parseOwner(raw: string): LockOwner | null {
  try {
    const owner = JSON.parse(raw) as LockOwner;
    return Number.isInteger(owner.pid) &&
      typeof owner.hostname === "string" &&
      typeof owner.nonce === "string"
      ? owner
      : null;
  } catch {
    return null;
  }
}

/** This process as a lock owner. */
export function ownerOfThisProcess(): LockOwner {
  return {
    pid: process.pid,
    hostname: hostname(),
    bootId: readText("/proc/sys/kernel/random/boot_id"),
    startTicks: startTicksOf(process.pid),
    acquiredAt: new Date().toISOString(),
    nonce: randomBytes(8).toString("hex"),
  };
}

/** Field 22 of /proc/<pid>/stat (after the parenthesised command, which may itself hold spaces); null off Linux. */
export function startTicksOf(pid: number): number | null {
  const stat = readText(`/proc/${pid}/stat`);
  if (stat === null) return null;
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[19]);
  return Number.isInteger(ticks) ? ticks : null;
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function readText(path: string): string | null {
  try {
    return readFileSync(path, "utf8").trim();
  } catch {
    return null;
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
  });
}
