/** A generic two-stage (prepare → execute) batcher; one instance per input kind. */
export { Batcher } from "./batcher.ts";
export { BatchContractError, BatcherClosedError, QueueFullError } from "./errors.ts";
export type {
  BatcherEvent,
  BatcherObserver,
  BatcherOptions,
  BatcherStats,
  CompletionEstimate,
  FlushReason,
  ItemOutcome,
  SubmitOptions,
} from "./types.ts";
