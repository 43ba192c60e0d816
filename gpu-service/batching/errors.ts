/**
 * Errors a submitter can receive from the batcher itself (as opposed to errors from prepare/execute, which
 * are passed through unchanged). Each carries a stable `code` so the HTTP layer maps them without `instanceof`
 * chains: `queue_full` → 503 with Retry-After, `batcher_closed` → 503 while shutting down.
 */

/** The queue already holds `maxQueue` items; shed load instead of growing latency without bound. */
export class QueueFullError extends Error {
  readonly code = "queue_full";
  readonly maxQueue: number;
  /** A hint for Retry-After: roughly how long until the queue has room again. Never below 1 ms. */
  readonly retryAfterMs: number;

  constructor(maxQueue: number, retryAfterMs: number) {
    super(`batch queue is full (${maxQueue} items waiting)`);
    this.name = "QueueFullError";
    this.maxQueue = maxQueue;
    this.retryAfterMs = Math.max(1, Math.ceil(retryAfterMs));
  }
}

/** `drain()` was called: the batcher finishes what it has but takes nothing new. */
export class BatcherClosedError extends Error {
  readonly code = "batcher_closed";

  constructor() {
    super("batcher is draining and accepts no new items");
    this.name = "BatcherClosedError";
  }
}

/** `execute` broke its contract (wrong number of outcomes). A bug in the caller's code, reported per item. */
export class BatchContractError extends Error {
  readonly code = "internal_error";

  constructor(message: string) {
    super(message);
    this.name = "BatchContractError";
  }
}
