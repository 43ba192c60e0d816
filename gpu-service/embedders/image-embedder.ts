import { normalizeRows } from "../../src/vector/index.ts";
import {
  Batcher,
  type BatcherObserver,
  type CompletionEstimate,
  type ItemOutcome,
} from "../batching/index.ts";
import type { ImageError, ImageLimits } from "../image/errors.ts";
import { preprocessImageInto } from "../image/pipeline.ts";
import type { PreprocessPool } from "../image/pool.ts";
import type { ClipEncoders } from "../model/index.ts";
import { TensorPool } from "./tensor-pool.ts";
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
  /** Worker threads for decoding and resampling; without one the event-loop thread resamples (fine on ≤ 2 cores). */
  pool?: PreprocessPool;
  /** Images of one batch decoded at once (default 4). */
  prepareConcurrency?: number;
}

/**
 * An input already preprocessed (e.g. an occluded variant of one): it writes its CHW float32 pixels into its slot of
 * the batch tensor, `out[offset .. offset + 3·H·W)`, when its batch is prepared.
 */
export interface PreparedImage {
  write(out: Float32Array, offset: number): void;
}

/**
 * Batches preparing (or prepared, waiting for the model) at once. With one, a batch's last few images decode alone —
 * a 12 MP photo takes several times a 1 MP one — and the other cores wait; with two, the next batch's decoding fills
 * them. Measured on 2 cores under 64 clients: +4–5% images/s on the embedded model, no change at ViT-B/32 size
 * (`npm run bench:gpu`, docs/benchmarks.md).
 */
const PREPARED_AHEAD = 2;

/** Encoded bytes, or pixels ready for the model. */
type ImageInput = Uint8Array | PreparedImage;

interface PreparedImages {
  pixels: Float32Array;
  runSize: number;
  results: ({ ok: true } | ImageError)[];
}

/** `Promise.all(items.map(fn))` with at most `limit` calls running at once; results keep the items' order. */
async function mapWithConcurrency<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    for (let i = next++; i < items.length; i = next++) results[i] = await fn(items[i] as T, i);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}

/**
 * Embeds encoded images, batching across requests: decoding and resizing of batch n+1 (sharp, on libuv's threads)
 * overlaps inference of batch n. A corrupt image fails alone with its code.
 */
export class ImageEmbedder {
  private readonly batcher: Batcher<ImageInput, EmbedOutcome, PreparedImages>;
  private readonly model: ClipEncoders;
  private readonly pixelsPerImage: number;
  private readonly tensors: TensorPool;

  constructor(model: ClipEncoders, options: ImageEmbedderOptions) {
    this.model = model;
    const { outputWidth, outputHeight } = model.folder.preprocess;
    this.pixelsPerImage = 3 * outputWidth * outputHeight;
    // The batcher's pipeline depth (PREPARED_AHEAD batches preparing or prepared, one running), with one to spare.
    this.tensors = new TensorPool(
      Math.max(...(options.padToSizes ?? []), options.maxBatchSize) * this.pixelsPerImage,
      PREPARED_AHEAD + 2,
    );
    this.batcher = new Batcher<ImageInput, EmbedOutcome, PreparedImages>({
      maxBatchSize: options.maxBatchSize,
      maxWaitMs: options.maxWaitMs,
      maxQueue: options.maxQueue,
      maxPreparedAhead: PREPARED_AHEAD,
      observer: options.observer,
      prepare: async (images) => {
        const runSize = paddedSize(images.length, options.padToSizes);
        // One shared tensor: the pool's workers write into it in place and the inference thread reads it in place.
        const pixels = this.tensors.take(runSize * this.pixelsPerImage);
        const preprocess = options.pool?.preprocessImageInto ?? preprocessImageInto;
        // A few images at a time: 64 phone photos decoded at once would hold gigabytes of pixels for no speed-up.
        const results = await mapWithConcurrency(
          images,
          options.prepareConcurrency ?? 4,
          async (input, i) => {
            const offset = i * this.pixelsPerImage;
            if (!(input instanceof Uint8Array)) {
              input.write(pixels, offset);
              return { ok: true as const };
            }
            return preprocess(input, model.folder.preprocess, pixels, offset, options.limits);
          },
        );
        return { pixels, runSize, results };
      },
      execute: async ({ pixels, runSize, results }) => {
        const outcomes: ItemOutcome<EmbedOutcome>[] = [];
        let embeddings: Float32Array | undefined;
        try {
          if (results.some((r) => r.ok))
            embeddings = normalizeRows(
              await this.model.embedImages(pixels, runSize),
              this.model.embeddingDim,
            );
        } finally {
          this.tensors.give(pixels);
        }
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

  /**
   * Embeds pixels already preprocessed (`PreparedImage`), in the same batches as encoded images: explanations share
   * the model's runs, queue limits, deadlines and drain with every other image.
   */
  embedPrepared(input: PreparedImage, signal?: AbortSignal): Promise<EmbedOutcome> {
    return this.batcher.submit(input, { signal });
  }

  stats() {
    return this.batcher.stats();
  }

  /** When `count` more images submitted now would be embedded (Batcher.estimateCompletion); undefined without history. */
  estimate(count: number): CompletionEstimate | undefined {
    return this.batcher.estimateCompletion(count);
  }

  /** Batches leave without waiting for company, while items are still taken (a drain's last requests). */
  expedite(): void {
    this.batcher.expedite();
  }

  drain(): Promise<void> {
    return this.batcher.drain();
  }
}
