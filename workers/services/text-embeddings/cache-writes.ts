/**
 * KV writes one request may make: with its reads (≤ 10 bulk gets of 100 keys) and its other calls (key, ledger,
 * GPU tier: a few dozen at most) it stays under the 1,000 operations a Worker invocation may make.
 */
export const KV_WRITES_PER_REQUEST = 900;
/** Writes in flight at once: a Worker invocation has 6 connections at a time, and one is left for anything else. */
const CONCURRENT_WRITES = 5;

/**
 * One request's cache writes, held until it has answered. A Worker invocation may have only 6 connections open at a
 * time and make 1,000 operations on KV and other services in all, so writes started while the request is still
 * working queue in front of its own calls — the billing ledger's among them (8,000 writes once held a 1,000-label
 * answer for a minute) — and past the 1,000th they fail. So writes wait for `start()` (the answer is out and
 * billed), run a few at a time, and at most `limit` are made; the rest live only in the isolate's LRU, and a later
 * request in another isolate that computes them again writes them. A write that fails only costs a recomputation.
 *
 * @example
 * const writes = new CacheWrites(KV_WRITES_PER_REQUEST, waitUntil);
 * writes.add(() => kv.put(key, value)); // queued
 * scope.afterAnswer(() => writes.start());
 */
export class CacheWrites {
  private readonly limit: number;
  private readonly keepAlive: (promise: Promise<unknown>) => void;
  private readonly queued: (() => Promise<unknown>)[] = [];
  private accepted = 0;
  private started = false;
  private refused = 0;
  private lanes = 0;

  constructor(limit: number, keepAlive: (promise: Promise<unknown>) => void) {
    this.limit = limit;
    this.keepAlive = keepAlive;
  }

  /** Queues a write (run at once once started); false when this request has used its share. */
  add(write: () => Promise<unknown>): boolean {
    if (this.accepted >= this.limit) {
      this.refused++;
      return false;
    }
    this.accepted++;
    this.queued.push(write);
    // After the start, a write that arrives late (a computation that outlived its request) joins the lanes.
    if (this.started && this.lanes < CONCURRENT_WRITES) this.keepAlive(this.lane());
    return true;
  }

  /** Writes refused for being over the limit. */
  get skipped(): number {
    return this.refused;
  }

  /** Runs the queued writes, a few at a time; resolves when all have settled. Later writes join the lanes. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await Promise.all(Array.from({ length: CONCURRENT_WRITES }, () => this.lane()));
  }

  /** Takes queued writes one after another until none is left. */
  private async lane(): Promise<void> {
    this.lanes++;
    try {
      for (let write = this.queued.shift(); write; write = this.queued.shift()) await run(write);
    } finally {
      this.lanes--;
    }
  }
}

async function run(write: () => Promise<unknown>): Promise<void> {
  await write().catch(() => {});
}
