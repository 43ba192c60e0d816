import type { ResolveHost } from "./resolve.ts";

/** A look-up that waited for a slot until its fetch gave up; never shown to callers (they read FETCH_FAILED_MESSAGE). */
export class LookupSlotsBusyError extends Error {
  override name = "LookupSlotsBusyError";
  readonly code = "ERR_LOOKUP_SLOTS_BUSY";
}

/** How busy the slots are, for tests and the start-up log. */
export interface LookupSlots {
  readonly slots: number;
  readonly running: number;
  readonly waiting: number;
}

/**
 * Caps how many look-ups run at once. `dns.lookup` is getaddrinfo on libuv's thread pool (4 threads unless
 * UV_THREADPOOL_SIZE says otherwise), shared with file I/O and sharp's decoding, and a started look-up cannot be
 * cancelled: without a cap, a few URLs naming slow attacker-controlled DNS would hold every thread for as long as the
 * resolver retries, and stall everyone's images. A look-up waits for a slot at most until its `signal` fires (the
 * fetch's own timeout), then fails with LookupSlotsBusyError; the slot of one that outlives its fetch is held until
 * getaddrinfo returns, which is exactly what the cap counts.
 *
 * @example const resolve = limitLookups(systemResolve, 2); await resolve("example.com", AbortSignal.timeout(10_000))
 */
export function limitLookups(resolve: ResolveHost, slots: number): ResolveHost & LookupSlots {
  if (!Number.isInteger(slots) || slots < 1) throw new RangeError(`look-up slots must be ≥ 1, got ${slots}`);
  let running = 0;
  const waiting: { admit: () => void }[] = [];

  function release(): void {
    running -= 1;
    const next = waiting.shift();
    if (next) next.admit();
  }

  function acquire(signal: AbortSignal | undefined): Promise<void> {
    if (running < slots && waiting.length === 0) {
      running += 1;
      return Promise.resolve();
    }
    if (signal?.aborted)
      return Promise.reject(new LookupSlotsBusyError("no look-up slot before the deadline"));
    return new Promise<void>((resolveWait, rejectWait) => {
      const waiter = {
        admit() {
          signal?.removeEventListener("abort", giveUp);
          running += 1;
          resolveWait();
        },
      };
      function giveUp() {
        const at = waiting.indexOf(waiter);
        if (at >= 0) waiting.splice(at, 1);
        rejectWait(new LookupSlotsBusyError("no look-up slot before the deadline"));
      }
      signal?.addEventListener("abort", giveUp, { once: true });
      waiting.push(waiter);
    });
  }

  const limited = async function limitedResolve(host: string, signal?: AbortSignal) {
    await acquire(signal);
    try {
      return await resolve(host, signal);
    } finally {
      release();
    }
  };
  return Object.defineProperties(limited, {
    slots: { value: slots, enumerable: true },
    running: { get: () => running, enumerable: true },
    waiting: { get: () => waiting.length, enumerable: true },
  }) as ResolveHost & LookupSlots;
}
