/** The outcome of one item: its result, or the error that failed it alone. */
export type ItemOutcome<Result> = { ok: true; value: Result } | { ok: false; error: unknown };

export interface BatcherOptions<Item, Prepared, Result> {
  /** A batch is flushed as soon as this many items wait. */
  maxBatchSize: number;
  /**
   * …or this long after the oldest waiting item arrived, whichever comes first. With 0 nothing waits on
   * purpose: a batch leaves as soon as the pipeline has room, so batches only grow under load.
   */
  maxWaitMs: number;
  /** Items allowed to wait (not counting those being prepared or executed); beyond it submit rejects. */
  maxQueue: number;
  /** Executions allowed at once; 1 for a single GPU session. Default 1. */
  maxConcurrentExecutions?: number;
  /**
   * Batches allowed to be preparing or prepared-and-waiting for an execution slot. Default 1: batch n+1 is
   * decoded while batch n runs, and later items stay in the queue where they can still be cancelled cheaply
   * and where the next batch can still fill up.
   */
  maxPreparedAhead?: number;
  /** CPU stage (decode, resize, tensor building). Throwing fails every item of the batch. */
  prepare: (items: readonly Item[]) => Prepared | Promise<Prepared>;
  /**
   * Inference stage. Returns one outcome per item, in item order, so one bad item fails alone; throwing
   * fails every item of the batch.
   */
  execute: (prepared: Prepared, items: readonly Item[]) => Promise<readonly ItemOutcome<Result>[]>;
  /** Receives stage timings and queue changes; must be cheap. Exceptions it throws are ignored. */
  observer?: BatcherObserver;
  /** Monotonic clock in ms; defaults to `performance.now`. */
  now?: () => number;
}

export interface SubmitOptions {
  /** Aborting removes a queued item, or detaches from a running one; the promise rejects with the reason. */
  signal?: AbortSignal;
}

/** Why a batch left the queue. */
export type FlushReason = "size" | "timeout" | "drain";

/** Everything the batcher reports, for metrics and tracing; a batch is identified by a sequence number. */
export type BatcherEvent =
  | { type: "queue_depth"; depth: number }
  | { type: "rejected"; reason: "queue_full" | "batcher_closed" }
  | { type: "cancelled"; stage: "queued" | "running" }
  | {
      type: "batch_flushed";
      batch: number;
      size: number;
      reason: FlushReason;
      /** Per item, ms between submit and flush. */
      waitsMs: readonly number[];
    }
  | { type: "prepared"; batch: number; size: number; durationMs: number; ok: boolean }
  | {
      type: "executed";
      batch: number;
      size: number;
      durationMs: number;
      ok: boolean;
      /** Items whose outcome was an error (all of them when execute threw). */
      failedItems: number;
    }
  /** Every item of a prepared batch was cancelled before its turn, so execute was skipped. */
  | { type: "execute_skipped"; batch: number; size: number };

export type BatcherObserver = (event: BatcherEvent) => void;

/** A point-in-time view for readiness checks and gauges. */
export interface BatcherStats {
  queueDepth: number;
  preparing: number;
  preparedWaiting: number;
  executing: number;
  /** `expedite()` or `drain()` was called: batches no longer wait for company. */
  draining: boolean;
}

/** What `Batcher.estimateCompletion` foresees, in ms from now, from the batcher's recent throughput. */
export interface CompletionEstimate {
  /** Items ahead of a new one: queued, preparing, prepared, executing. 0 means idle. */
  backlogItems: number;
  /** Until those are done. */
  backlogMs: number;
  /** Until the asked-about items would be done too. */
  doneInMs: number;
}
