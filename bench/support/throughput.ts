/**
 * Runs `work` from `concurrency` loops for about `seconds`, each call counting `perCall` items; returns items/s.
 * Benchmarks compare such rates side by side in one run, never against fixed numbers.
 */
export async function throughput(
  seconds: number,
  concurrency: number,
  perCall: number,
  work: (i: number) => Promise<unknown>,
): Promise<number> {
  let next = 0;
  let done = 0;
  const deadline = performance.now() + seconds * 1000;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        await work(next++);
        done += perCall;
      }
    }),
  );
  return done / ((performance.now() - start) / 1000);
}
