/**
 * Polls `condition` until it holds, at most `timeoutMs` (then throws, naming what was awaited). For tests that wait
 * on a real process or network state; the bound only stops a broken test from hanging, it is never the assertion.
 *
 * @example await untilTrue(async () => (await fetch(url)).ok, 30_000, "the GPU service to be ready")
 */
export async function untilTrue(
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what = "the condition",
  intervalMs = 100,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
