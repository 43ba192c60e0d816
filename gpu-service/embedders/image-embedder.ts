import { normalizeRows } from "../../src/vector/index.ts";
import { Batcher, type BatcherObserver, type ItemOutcome } from "../batching/index.ts";
import type { ImageLimits } from "../image/errors.ts";
import { type PreprocessIntoResult, preprocessImageInto } from "../image/pipeline.ts";
import type { ClipModel } from "../model/index.ts";
import { type EmbedOutcome, paddedSize } from "./types.ts";

export interface ImageEmbedderOptions {
  limits: ImageLimits;
  maxBatchSize: number;
  maxWaitMs: number;
  maxQueue: number;
  /** Pad batches up to these sizes (the warmed shapes); undefined runs each batch at its own size. */
  padToSizes?: readonly number[];
  observer?: BatcherObserver;
  onItemError?: (code: string) => void;
}

interface PreparedImages {
  pixels: Float32Array;
  runSize: number;
  results: PreprocessIntoResult[];
}

/**
 * Embeds encoded images, batching across requests: decoding and resizing of batch n+1 (sharp, on libuv's threads)
 * overlaps inference of batch n. A corrupt image fails alone with its code.
 */
export class ImageEmbedder {
  private readonly batcher: Batcher<Uint8Array, EmbedOutcome, PreparedImages>;
  private readonly model: ClipModel;
  private readonly pixelsPerImage: number;

  constructor(model: ClipModel, options: ImageEmbedderOptions) {
    this.model = model;
    const { outputWidth, outputHeight } = model.folder.preprocess;
    this.pixelsPerImage = 3 * outputWidth * outputHeight;
    this.batcher = new Batcher<Uint8Array, EmbedOutcome, PreparedImages>({
      maxBatchSize: options.maxBatchSize,
      maxWaitMs: options.maxWaitMs,
      maxQueue: options.maxQueue,
      observer: options.observer,
      prepare: async (images) => {
        const runSize = paddedSize(images.length, options.padToSizes);
        const pixels = new Float32Array(runSize * this.pixelsPerImage);
        const results = await Promise.all(
          images.map((bytes, i) =>
            preprocessImageInto(
              bytes,
              model.folder.preprocess,
              pixels,
              i * this.pixelsPerImage,
              options.limits,
            ),
          ),
        );
        return { pixels, runSize, results };
      },
      execute: async ({ pixels, runSize, results }) => {
        const outcomes: ItemOutcome<EmbedOutcome>[] = [];
        let embeddings: Float32Array | undefined;
        if (results.some((r) => r.ok))
          embeddings = normalizeRows(await this.model.embedImages(pixels, runSize), this.model.embeddingDim);
        const dim = this.model.embeddingDim;
        for (const [i, result] of results.entries()) {
          if (result.ok && embeddings) {
            outcomes.push({
              ok: true,
              value: { ok: true, embedding: embeddings.slice(i * dim, (i + 1) * dim) },
            });
          } else if (!result.ok) {
            options.onItemError?.(result.code);
            outcomes.push({ ok: true, value: { ok: false, code: result.code, message: result.message } });
          }
        }
        return outcomes;
      },
    });
  }

  /** Rejects with QueueFullError when the queue is full, or the abort reason when `signal` fires first. */
  embed(bytes: Uint8Array, signal?: AbortSignal): Promise<EmbedOutcome> {
    return this.batcher.submit(bytes, { signal });
  }

  /** Runs one batch of every given size through the model, so the first real requests do not pay for it. */
  async warmUp(sizes: readonly number[]): Promise<void> {
    for (const size of sizes)
      await this.model.embedImages(new Float32Array(size * this.pixelsPerImage), size);
  }

  stats() {
    return this.batcher.stats();
  }

  drain(): Promise<void> {
    return this.batcher.drain();
  }
}
