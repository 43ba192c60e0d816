/**
 * Polls `check` until it returns something other than undefined or false, and returns it; throws after `timeoutMs`
 * (30 s by default) saying what it waited for. For tests that wait on a real process or network state: the bound
 * only stops a broken test from hanging on a shared, slow machine, it is never the assertion.
 *
 * @example const pid = await waitFor("a new GPU pid", () => readState()?.gpuPid ?? undefined, { timeoutMs: 60_000 })
 * @example await waitFor("the GPU service to be ready", async () => (await fetch(url)).ok)
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
