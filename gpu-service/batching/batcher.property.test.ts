import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Batcher } from "./batcher.ts";
import { QueueFullError } from "./errors.ts";
import type { BatcherEvent } from "./types.ts";

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

// Random schedules of submits, aborts and clock moves against stages that take random (fake) time.
const operation = fc.oneof(
  fc.record({
    kind: fc.constant("submit" as const),
    abortAfterMs: fc.option(fc.integer({ min: 0, max: 40 })),
  }),
  fc.record({ kind: fc.constant("advance" as const), ms: fc.integer({ min: 0, max: 30 }) }),
);

const config = fc.record({
  maxBatchSize: fc.integer({ min: 1, max: 5 }),
  maxWaitMs: fc.integer({ min: 0, max: 20 }),
  maxQueue: fc.integer({ min: 1, max: 12 }),
  maxConcurrentExecutions: fc.integer({ min: 1, max: 3 }),
  maxPreparedAhead: fc.integer({ min: 1, max: 3 }),
  prepareMs: fc.integer({ min: 0, max: 15 }),
  executeMs: fc.integer({ min: 0, max: 25 }),
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("Batcher under random schedules", () => {
  it("settles every item exactly once, with its own result, within every bound", async () => {
    await fc.assert(
      fc.asyncProperty(config, fc.array(operation, { maxLength: 40 }), async (c, operations) => {
        let preparing = 0;
        let executing = 0;
        const seen = new Set<number>();
        const events: BatcherEvent[] = [];
        const violations: string[] = [];
        const batcher = new Batcher<number, number, number[]>({
          ...c,
          observer: (event) => events.push(event),
          prepare: async (items) => {
            preparing++;
            if (items.length > c.maxBatchSize) violations.push(`batch of ${items.length}`);
            for (const item of items) {
              if (seen.has(item)) violations.push(`item ${item} batched twice`);
              seen.add(item);
            }
            await sleep(c.prepareMs);
            preparing--;
            return [...items];
          },
          execute: async (prepared) => {
            executing++;
            if (executing > c.maxConcurrentExecutions) violations.push("too many executions");
            await sleep(c.executeMs);
            executing--;
            // Every seventh item is "corrupt" and fails alone.
            return prepared.map((n) =>
              n % 7 === 6 ? { ok: false, error: `bad ${n}` } : { ok: true, value: n * 10 },
            );
          },
        });

        const outcomes: Array<{
          item: number;
          aborted: boolean;
          result?: unknown;
          error?: unknown;
          settles: number;
        }> = [];
        for (const op of operations) {
          if (op.kind === "advance") {
            await vi.advanceTimersByTimeAsync(op.ms);
            continue;
          }
          const item = outcomes.length;
          const controller = new AbortController();
          const record = { item, aborted: false, settles: 0 } as (typeof outcomes)[number];
          outcomes.push(record);
          if (op.abortAfterMs !== null) {
            setTimeout(() => {
              record.aborted = true;
              controller.abort(`abort ${item}`);
            }, op.abortAfterMs);
          }
          batcher.submit(item, { signal: controller.signal }).then(
            (result) => Object.assign(record, { result, settles: record.settles + 1 }),
            (error: unknown) => Object.assign(record, { error, settles: record.settles + 1 }),
          );
          if (preparing + batcher.stats().preparedWaiting > c.maxPreparedAhead)
            violations.push("too far ahead");
        }
        const drained = batcher.drain();
        await vi.advanceTimersByTimeAsync(10_000);
        await drained;

        expect(violations).toEqual([]);
        for (const o of outcomes) {
          expect(o.settles, `item ${o.item}`).toBe(1);
          if (o.result !== undefined) {
            expect(o.result).toBe(o.item * 10);
          } else if (o.error instanceof QueueFullError) {
            expect(seen.has(o.item)).toBe(false);
          } else if (o.error === `abort ${o.item}`) {
            expect(o.aborted).toBe(true);
          } else {
            expect(o.error).toBe(`bad ${o.item}`);
          }
        }
        for (const event of events) {
          if (event.type === "batch_flushed" && event.reason === "timeout") {
            expect(Math.max(...event.waitsMs)).toBeGreaterThanOrEqual(c.maxWaitMs);
          }
          if (event.type === "batch_flushed" && event.reason === "size")
            expect(event.size).toBe(c.maxBatchSize);
        }
        expect(batcher.stats()).toEqual({
          queueDepth: 0,
          preparing: 0,
          preparedWaiting: 0,
          executing: 0,
          draining: true,
        });
        // Every item that left the queue was counted back out of the pipeline, whatever became of it.
        expect(batcher.estimateCompletion(0)?.backlogItems ?? 0).toBe(0);
        expect(vi.getTimerCount()).toBe(0);
      }),
      { numRuns: 150 },
    );
  });
});
