import { createServer } from "node:net";

/** A loopback port nothing listens on right now (the OS picks it; closed again before it is returned). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

/**
 * Polls until `check` returns something other than undefined or false, and returns it; throws after `timeoutMs`
 * saying what it waited for. The bound is a safety net for a shared, slow machine, never an assertion on time.
 *
 * @example const pid = await waitFor("a new GPU pid", () => readState()?.gpuPid ?? undefined, { timeoutMs: 60_000 })
 */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  options: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`gave up after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 100));
  }
}

/** Whether a process with this pid exists (signal 0 only checks). */
export function isAlive(pid: number): boolean {
  return signalExists(pid);
}

/** Whether any process is left in the process group led by `pgid` (what a detached child started). */
export function groupAlive(pgid: number): boolean {
  return signalExists(-pgid);
}

function signalExists(target: number): boolean {
  try {
    process.kill(target, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Best-effort cleanup after a failed test: SIGKILL a process group, ignoring one already gone. */
export function killGroup(pgid: number): void {
  try {
    process.kill(-pgid, "SIGKILL");
  } catch {}
}
