/** Shared scaffolding for the batcher tests: controllable stages and an event log. */
import { vi } from "vitest";
import { Batcher } from "../../gpu-service/batching/batcher.ts";
import type { BatcherEvent, BatcherOptions, ItemOutcome } from "../../gpu-service/batching/types.ts";

export interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets every pending microtask (promise callback) run without moving the fake clock. */
export async function settle(): Promise<void> {
  await vi.advanceTimersByTimeAsync(0);
}

/** Observes a promise's state without awaiting it (and without an unhandled rejection). */
export function track<T>(promise: Promise<T>) {
  const state: { status: "pending" | "fulfilled" | "rejected"; value?: T; error?: unknown } = {
    status: "pending",
  };
  promise.then(
    (value) => Object.assign(state, { status: "fulfilled", value }),
    (error: unknown) => Object.assign(state, { status: "rejected", error }),
  );
  return state;
}

export const ok = <R>(value: R): ItemOutcome<R> => ({ ok: true, value });

/**
 * A batcher over numbers whose stages complete instantly (prepare doubles, execute adds one), recording
 * each stage's items and every observer event.
 */
export function instantBatcher(options: Partial<BatcherOptions<number, number[], number>> = {}) {
  const batches: number[][] = [];
  const events: BatcherEvent[] = [];
  const batcher = new Batcher<number, number, number[]>({
    maxBatchSize: 4,
    maxWaitMs: 10,
    maxQueue: 100,
    prepare: (items) => {
      batches.push([...items]);
      return items.map((item) => item * 2);
    },
    execute: async (prepared) => prepared.map((value) => ok(value + 1)),
    observer: (event) => events.push(event),
    ...options,
  });
  return { batcher, batches, events };
}

/**
 * A batcher whose every prepare and execute waits for the test to finish it, logging
 * "prepare:start:1", "execute:end:1", … so tests can assert the pipeline's ordering.
 */
export function manualBatcher(options: Partial<BatcherOptions<string, string[], string>> = {}) {
  const log: string[] = [];
  const prepares: Array<Deferred<void> & { items: readonly string[] }> = [];
  const executes: Array<Deferred<readonly ItemOutcome<string>[] | undefined> & { items: readonly string[] }> =
    [];
  let batchNo = 0;
  const batcher = new Batcher<string, string, string[]>({
    maxBatchSize: 2,
    maxWaitMs: 10,
    maxQueue: 100,
    prepare: async (items) => {
      const n = ++batchNo;
      const step = Object.assign(deferred<void>(), { items });
      prepares.push(step);
      log.push(`prepare:start:${n}`);
      await step.promise;
      log.push(`prepare:end:${n}`);
      return items.map((item) => `${item}@${n}`);
    },
    execute: async (prepared, items) => {
      const n = Number(prepared[0]?.split("@")[1]);
      const step = Object.assign(deferred<readonly ItemOutcome<string>[] | undefined>(), { items });
      executes.push(step);
      log.push(`execute:start:${n}`);
      const custom = await step.promise;
      log.push(`execute:end:${n}`);
      return custom ?? prepared.map((value) => ok(value.toUpperCase()));
    },
    ...options,
  });
  return { batcher, log, prepares, executes };
}
