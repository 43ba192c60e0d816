/** Weight of the newest sample in the running average: a few dozen requests decide, one GC pause does not. */
const ALPHA = 0.1;
/** After this long without a sample the average is stale: the next sample starts it afresh. */
const STALE_AFTER_MS = 5_000;

/**
 * How late this isolate runs work that is ready, measured by the requests themselves: each waits one turn of the
 * event loop (a zero-delay timer) and reports how long that took. An isolate runs JavaScript on one thread, so when
 * more CPU is asked of it than it has — locally, or when the machine's cores go to the GPU tier — every callback of
 * every request queues behind the others, and answers come late whatever the deadlines say. This is the signal for
 * refusing new work before it joins that queue. One per isolate.
 *
 * @example const lagMs = await services.eventLoop.measure(); services.eventLoop.averageMs
 */
export class EventLoopLag {
  private readonly now: () => number;
  private readonly turn: () => Promise<void>;
  private average = 0;
  private lastSampleAt = Number.NEGATIVE_INFINITY;

  constructor(options: { now?: () => number; turn?: () => Promise<void> } = {}) {
    this.now = options.now ?? Date.now;
    this.turn = options.turn ?? (() => new Promise<void>((resolve) => setTimeout(resolve, 0)));
  }

  /** Waits one turn of the event loop; the wait (ms) is returned and folded into the average. */
  async measure(): Promise<number> {
    const start = this.now();
    await this.turn();
    const end = this.now();
    const lagMs = Math.max(0, end - start);
    this.record(lagMs, start, end);
    return lagMs;
  }

  /** The running average of recent samples (ms); 0 before any, or when the last is stale. */
  get averageMs(): number {
    return this.now() - this.lastSampleAt > STALE_AFTER_MS ? 0 : this.average;
  }

  private record(lagMs: number, start: number, end: number): void {
    // After a quiet spell (no sample for a while before this turn began) the average starts again from nothing, so
    // one slow turn (a GC pause, the first request of a cold isolate building its services) weighs like any other
    // sample rather than standing for the whole average. Stamped when the turn ended: a turn longer than the
    // staleness bound is the freshest news there is, not stale.
    const from = start - this.lastSampleAt > STALE_AFTER_MS ? 0 : this.average;
    this.average = from + ALPHA * (lagMs - from);
    this.lastSampleAt = end;
  }
}
