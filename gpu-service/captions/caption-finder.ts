import { Batcher, type BatcherObserver, type CompletionEstimate } from "../batching/index.ts";
import type { CaptionTexts } from "./bank.ts";
import type { BankSearchSession } from "./search-session.ts";

/** One caption found for an image: its row in the bank, its text, and its cosine similarity to the image. */
export interface CaptionHit {
  index: number;
  text: string;
  score: number;
}

export interface CaptionFinderOptions {
  maxBatchSize: number;
  maxWaitMs: number;
  maxQueue: number;
  observer?: BatcherObserver;
}

interface Query {
  embedding: Float32Array;
  k: number;
}

interface PreparedQueries {
  queries: Float32Array;
  k: number;
}

/**
 * Finds the nearest captions of image embeddings, batching searches across requests: a search over a big bank
 * reads the whole bank once whatever the number of queries, so 16 queries cost little more than one.
 *
 * @example
 * const finder = new CaptionFinder(session, bank.texts, { maxBatchSize: 64, maxWaitMs: 2, maxQueue: 512 });
 * const hits = await finder.find(imageEmbedding, 5); // [{ index: 17, text: "two red circles", score: 0.31 }, …]
 */
export class CaptionFinder {
  readonly count: number;
  private readonly session: BankSearchSession;
  private readonly batcher: Batcher<Query, CaptionHit[], PreparedQueries>;

  constructor(session: BankSearchSession, texts: CaptionTexts, options: CaptionFinderOptions) {
    if (texts.count !== session.count)
      throw new RangeError(`CaptionFinder: ${texts.count} texts for ${session.count} embeddings`);
    this.session = session;
    this.count = session.count;
    const dim = session.dim;
    this.batcher = new Batcher<Query, CaptionHit[], PreparedQueries>({
      maxBatchSize: options.maxBatchSize,
      maxWaitMs: options.maxWaitMs,
      maxQueue: options.maxQueue,
      observer: options.observer,
      prepare: (items) => {
        const queries = new Float32Array(items.length * dim);
        for (const [i, item] of items.entries()) queries.set(item.embedding, i * dim);
        // One run answers every item with the largest k asked for; each takes its own prefix.
        return { queries, k: Math.max(...items.map((item) => item.k)) };
      },
      execute: async ({ queries, k }, items) => {
        const hits = await session.search(queries, items.length, k);
        return items.map((item, q) => {
          const captions: CaptionHit[] = [];
          for (let j = 0; j < Math.min(item.k, hits.k); j++) {
            const index = hits.indices[q * hits.k + j] as number;
            captions.push({ index, text: texts.get(index), score: hits.scores[q * hits.k + j] as number });
          }
          return { ok: true, value: captions };
        });
      },
    });
  }

  /**
   * The `k` captions nearest to a unit-length embedding, best first (fewer when the bank is smaller). Rejects with
   * QueueFullError when the queue is full, or the abort reason when `signal` fires first.
   */
  find(embedding: Float32Array, k: number, signal?: AbortSignal): Promise<CaptionHit[]> {
    if (embedding.length !== this.session.dim)
      throw new RangeError(
        `find: the embedding has ${embedding.length} values, the bank ${this.session.dim}`,
      );
    return this.batcher.submit({ embedding, k }, { signal });
  }

  /** Runs a search of every given batch size, so the first requests do not pay for ORT's first-run allocations;
   *  stops between sizes once `signal` fires. */
  async warmUp(sizes: readonly number[], signal?: AbortSignal, k = 10): Promise<void> {
    for (const size of sizes) {
      if (signal?.aborted) return;
      await this.session.search(new Float32Array(size * this.session.dim), size, k);
    }
  }

  stats() {
    return this.batcher.stats();
  }

  /** When `count` more searches submitted now would be done (Batcher.estimateCompletion); undefined without history. */
  estimate(count: number): CompletionEstimate | undefined {
    return this.batcher.estimateCompletion(count);
  }

  /** Searches leave without waiting for company, while new ones are still taken (a drain's last requests). */
  expedite(): void {
    this.batcher.expedite();
  }

  /** Finishes queued searches, then releases the session. */
  async close(): Promise<void> {
    await this.batcher.drain();
    await this.session.release();
  }
}
