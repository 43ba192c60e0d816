import { BatchContractError, BatcherClosedError, QueueFullError } from "./errors.ts";
import { RecentThroughput } from "./throughput.ts";
import type {
  BatcherEvent,
  BatcherOptions,
  BatcherStats,
  CompletionEstimate,
  FlushReason,
  ItemOutcome,
  SubmitOptions,
} from "./types.ts";

// Enough batches to smooth one odd batch out, few enough that the estimate follows a change of load within seconds.
const THROUGHPUT_WINDOW = 8;

interface Entry<Item, Result> {
  readonly item: Item;
  readonly arrivedAt: number;
  readonly resolve: (value: Result) => void;
  readonly reject: (error: unknown) => void;
  readonly signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  /** Still in the item queue (so cancelling removes it rather than just detaching). */
  queued: boolean;
  settled: boolean;
}

interface PreparedBatch<Item, Result, Prepared> {
  readonly id: number;
  readonly flushedAt: number;
  readonly entries: readonly Entry<Item, Result>[];
  readonly prepared: Prepared;
}

/**
 * Groups single requests into batches for a two-stage pipeline: `prepare` (CPU) of batch n+1 overlaps
 * `execute` (GPU) of batch n, with at most `maxConcurrentExecutions` executions and `maxPreparedAhead`
 * batches preparing or prepared at once. Use one batcher per model input kind (images, texts).
 *
 * @example
 * const images = new Batcher({
 *   maxBatchSize: 32, maxWaitMs: 5, maxQueue: 256,
 *   prepare: (bytes: readonly Uint8Array[]) => decodeAndResize(bytes),      // CPU
 *   execute: async (tensor) => (await session.run(tensor)).map((value) => ({ ok: true, value })),
 * });
 * const embedding = await images.submit(jpegBytes, { signal: request.signal });
 */
export class Batcher<Item, Result, Prepared = unknown> {
  readonly #maxBatchSize: number;
  readonly #maxWaitMs: number;
  readonly #maxQueue: number;
  readonly #maxConcurrentExecutions: number;
  readonly #maxPreparedAhead: number;
  readonly #prepare: BatcherOptions<Item, Prepared, Result>["prepare"];
  readonly #execute: BatcherOptions<Item, Prepared, Result>["execute"];
  readonly #observer: BatcherOptions<Item, Prepared, Result>["observer"];
  readonly #now: () => number;

  #queue: Entry<Item, Result>[] = [];
  #preparing = 0;
  #ready: PreparedBatch<Item, Result, Prepared>[] = [];
  #executing = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerDeadline = 0;
  #nextBatchId = 1;
  #averageExecuteMs = 0;
  /** Items that left the queue and are not done yet: preparing, prepared and waiting, or executing. */
  #inPipeline = 0;
  readonly #throughput = new RecentThroughput(THROUGHPUT_WINDOW);
  #expedited = false;
  #drained: Promise<void> | undefined;
  #resolveDrained: (() => void) | undefined;

  constructor(options: BatcherOptions<Item, Prepared, Result>) {
    // Bad options are a programming error, caught once at start-up rather than per request.
    this.#maxBatchSize = positiveInteger("maxBatchSize", options.maxBatchSize);
    this.#maxQueue = positiveInteger("maxQueue", options.maxQueue);
    this.#maxConcurrentExecutions = positiveInteger(
      "maxConcurrentExecutions",
      options.maxConcurrentExecutions ?? 1,
    );
    this.#maxPreparedAhead = positiveInteger("maxPreparedAhead", options.maxPreparedAhead ?? 1);
    if (!(Number.isFinite(options.maxWaitMs) && options.maxWaitMs >= 0)) {
      throw new RangeError(`maxWaitMs must be a finite number ≥ 0, got ${options.maxWaitMs}`);
    }
    this.#maxWaitMs = options.maxWaitMs;
    this.#prepare = options.prepare;
    this.#execute = options.execute;
    this.#observer = options.observer;
    this.#now = options.now ?? (() => performance.now());
  }

  /**
   * Queues one item and resolves with its result, or rejects with its own error, the batch's error,
   * `QueueFullError`, `BatcherClosedError`, or the abort reason.
   *
   * @example
   * try { return await texts.submit(tokenIds, { signal }); }
   * catch (e) { if (e instanceof QueueFullError) return overloaded(e.retryAfterMs); throw e; }
   */
  submit(item: Item, options: SubmitOptions = {}): Promise<Result> {
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#drained) {
      this.#emit({ type: "rejected", reason: "batcher_closed" });
      return Promise.reject(new BatcherClosedError());
    }
    if (this.#queue.length >= this.#maxQueue) {
      this.#emit({ type: "rejected", reason: "queue_full" });
      return Promise.reject(new QueueFullError(this.#maxQueue, this.#estimateRetryAfterMs()));
    }

    let resolve!: (value: Result) => void;
    let reject!: (error: unknown) => void;
    const promise = new Promise<Result>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const entry: Entry<Item, Result> = {
      item,
      arrivedAt: this.#now(),
      resolve,
      reject,
      signal,
      onAbort: undefined,
      queued: true,
      settled: false,
    };
    if (signal) {
      entry.onAbort = () => this.#cancel(entry, signal.reason);
      signal.addEventListener("abort", entry.onAbort, { once: true });
    }
    this.#queue.push(entry);
    this.#emit({ type: "queue_depth", depth: this.#queue.length });
    this.#pump();
    return promise;
  }

  /**
   * Stops accepting items, flushes everything queued without waiting for `maxWaitMs`, and resolves once
   * the last execution has settled. Idempotent.
   *
   * @example
   * process.once("SIGTERM", async () => { server.close(); await Promise.all([images.drain(), texts.drain()]); });
   */
  drain(): Promise<void> {
    if (!this.#drained) {
      this.#drained = new Promise((resolve) => {
        this.#resolveDrained = resolve;
      });
      this.#pump();
    }
    return this.#drained;
  }

  /**
   * From now on batches leave as soon as the pipeline has room, without waiting `maxWaitMs` for company, while
   * `submit` still takes items. For a service's drain: the requests it still finishes bring their last items, and no
   * company is coming. `drain()` later closes the batcher. Idempotent.
   *
   * @example process.once("SIGTERM", () => { images.expedite(); requestsDone.then(() => images.drain()); });
   */
  expedite(): void {
    if (this.#expedited) return;
    this.#expedited = true;
    this.#pump();
  }

  /**
   * When `items` more items submitted now would be done, from the batcher's own recent throughput (items per ms over
   * its last completed batches) times the items ahead of them — queued, preparing, prepared, executing — plus their
   * own; and when the backlog already here would clear. Undefined until a batch has completed: with no history there
   * is nothing honest to say. A hint for shedding load early, not a promise (time spent waiting for company is not
   * counted).
   *
   * @example batcher.estimateCompletion(8) // { backlogItems: 40, backlogMs: 200, doneInMs: 240 } at 0.2 items/ms
   */
  estimateCompletion(items: number): CompletionEstimate | undefined {
    const perMs = this.#throughput.itemsPerMs();
    if (perMs === undefined) return undefined;
    const backlogItems = this.#queue.length + this.#inPipeline;
    return { backlogItems, backlogMs: backlogItems / perMs, doneInMs: (backlogItems + items) / perMs };
  }

  /** @example batcher.stats() // { queueDepth: 3, preparing: 1, preparedWaiting: 0, executing: 1, draining: false } */
  stats(): BatcherStats {
    return {
      queueDepth: this.#queue.length,
      preparing: this.#preparing,
      preparedWaiting: this.#ready.length,
      executing: this.#executing,
      draining: this.#drained !== undefined || this.#expedited,
    };
  }

  /** Starts whatever work the current state allows; called after every state change. */
  #pump(): void {
    // Executions first: each one started frees a prepared-ahead slot for the loop below.
    while (this.#ready.length > 0 && this.#executing < this.#maxConcurrentExecutions) {
      const batch = this.#ready.shift();
      if (batch) this.#startExecute(batch);
    }
    while (this.#preparing + this.#ready.length < this.#maxPreparedAhead) {
      const reason = this.#flushReason();
      if (reason === undefined) break;
      this.#startPrepare(this.#queue.splice(0, this.#maxBatchSize), reason);
    }
    this.#armTimer();
    if (this.#resolveDrained && this.#isIdle()) this.#resolveDrained();
  }

  #flushReason(): FlushReason | undefined {
    const oldest = this.#queue[0];
    if (oldest === undefined) return undefined;
    if (this.#queue.length >= this.#maxBatchSize) return "size";
    if (this.#drained || this.#expedited) return "drain";
    if (this.#now() - oldest.arrivedAt >= this.#maxWaitMs) return "timeout";
    return undefined;
  }

  /**
   * Keeps one timer, for the oldest item's deadline, whenever the pipeline has room for its batch; when it is full,
   * the next completion pumps again. At least 1 ms: the deadline may have passed since `#flushReason` read the clock
   * (a timer that fires a hair early lands there), and a timer must still come — else a lone item waits for the next
   * arrival, however long that is.
   */
  #armTimer(): void {
    const oldest = this.#queue[0];
    const deadline = oldest === undefined ? undefined : oldest.arrivedAt + this.#maxWaitMs;
    if (this.#timer !== undefined && deadline === this.#timerDeadline) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (deadline === undefined || this.#drained || this.#expedited) return;
    if (this.#preparing + this.#ready.length >= this.#maxPreparedAhead) return;
    this.#timerDeadline = deadline;
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        this.#pump();
      },
      Math.max(1, deadline - this.#now()),
    );
  }

  #startPrepare(entries: Entry<Item, Result>[], reason: FlushReason): void {
    const id = this.#nextBatchId++;
    const flushedAt = this.#now();
    for (const entry of entries) entry.queued = false;
    this.#emit({ type: "queue_depth", depth: this.#queue.length });
    this.#emit({
      type: "batch_flushed",
      batch: id,
      size: entries.length,
      reason,
      waitsMs: entries.map((entry) => flushedAt - entry.arrivedAt),
    });

    this.#preparing++;
    this.#inPipeline += entries.length;
    const items = entries.map((entry) => entry.item);
    // Through a microtask so a synchronous prepare never runs inside the submit() call that triggered it.
    Promise.resolve()
      .then(() => this.#prepare(items))
      .then(
        (prepared) => {
          this.#preparing--;
          this.#emit({
            type: "prepared",
            batch: id,
            size: entries.length,
            durationMs: this.#now() - flushedAt,
            ok: true,
          });
          this.#ready.push({ id, flushedAt, entries, prepared });
          this.#pump();
        },
        (error: unknown) => {
          this.#preparing--;
          this.#emit({
            type: "prepared",
            batch: id,
            size: entries.length,
            durationMs: this.#now() - flushedAt,
            ok: false,
          });
          this.#inPipeline -= entries.length;
          for (const entry of entries) this.#settle(entry, { ok: false, error });
          this.#pump();
        },
      );
  }

  #startExecute(batch: PreparedBatch<Item, Result, Prepared>): void {
    const { id, entries } = batch;
    if (entries.every((entry) => entry.settled)) {
      // Everyone left while it was being prepared: no point spending GPU time on it.
      this.#inPipeline -= entries.length;
      this.#emit({ type: "execute_skipped", batch: id, size: entries.length });
      return;
    }
    this.#executing++;
    const startedAt = this.#now();
    const items = entries.map((entry) => entry.item);
    const finish = (outcomes: readonly ItemOutcome<Result>[], ok: boolean) => {
      this.#executing--;
      this.#inPipeline -= entries.length;
      const finishedAt = this.#now();
      const durationMs = finishedAt - startedAt;
      // A batch that failed fast (the model was down) says nothing of how fast batches are served.
      if (ok) {
        this.#throughput.record(entries.length, batch.flushedAt, finishedAt);
        this.#averageExecuteMs =
          this.#averageExecuteMs === 0 ? durationMs : 0.8 * this.#averageExecuteMs + 0.2 * durationMs;
      }
      const failedItems = outcomes.filter((outcome) => !outcome.ok).length;
      this.#emit({ type: "executed", batch: id, size: entries.length, durationMs, ok, failedItems });
      entries.forEach((entry, i) => {
        this.#settle(entry, outcomes[i] ?? { ok: false, error: new BatchContractError("missing outcome") });
      });
      this.#pump();
    };
    const failAll = (error: unknown) => entries.map((): ItemOutcome<Result> => ({ ok: false, error }));

    Promise.resolve()
      .then(() => this.#execute(batch.prepared, items))
      .then(
        (outcomes) => {
          if (Array.isArray(outcomes) && outcomes.length === entries.length) return finish(outcomes, true);
          const got = Array.isArray(outcomes) ? `${outcomes.length} outcomes` : typeof outcomes;
          finish(
            failAll(new BatchContractError(`execute returned ${got} for ${entries.length} items`)),
            false,
          );
        },
        (error: unknown) => finish(failAll(error), false),
      );
  }

  #cancel(entry: Entry<Item, Result>, reason: unknown): void {
    if (entry.settled) return;
    if (entry.queued) {
      this.#queue.splice(this.#queue.indexOf(entry), 1);
      entry.queued = false;
      this.#emit({ type: "cancelled", stage: "queued" });
      this.#emit({ type: "queue_depth", depth: this.#queue.length });
    } else {
      // Already in a batch: the batch goes on for the others and this item's outcome is dropped.
      this.#emit({ type: "cancelled", stage: "running" });
    }
    this.#settle(entry, { ok: false, error: reason });
    this.#pump();
  }

  #settle(entry: Entry<Item, Result>, outcome: ItemOutcome<Result>): void {
    if (entry.settled) return;
    entry.settled = true;
    if (entry.onAbort) entry.signal?.removeEventListener("abort", entry.onAbort);
    if (outcome.ok) entry.resolve(outcome.value);
    else entry.reject(outcome.error);
  }

  #isIdle(): boolean {
    return (
      this.#queue.length === 0 && this.#preparing === 0 && this.#ready.length === 0 && this.#executing === 0
    );
  }

  /** A hint, not a promise: batches ahead of a new item times the recent execution time. */
  #estimateRetryAfterMs(): number {
    const batchesAhead =
      Math.ceil(this.#queue.length / this.#maxBatchSize) + this.#preparing + this.#ready.length;
    const perBatch = this.#averageExecuteMs / this.#maxConcurrentExecutions;
    return Math.max(this.#maxWaitMs, batchesAhead * perBatch);
  }

  #emit(event: BatcherEvent): void {
    if (!this.#observer) return;
    try {
      this.#observer(event);
    } catch {
      // Metrics must never break serving; a broken observer shows up as missing metrics instead.
    }
  }
}

function positiveInteger(name: string, value: number): number {
  if (!(Number.isInteger(value) && value >= 1))
    throw new RangeError(`${name} must be an integer ≥ 1, got ${value}`);
  return value;
}
