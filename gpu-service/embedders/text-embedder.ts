import { normalizeRows } from "../../src/vector/index.ts";
import {
  Batcher,
  type BatcherObserver,
  type CompletionEstimate,
  type ItemOutcome,
} from "../batching/index.ts";
import type { ClipEncoders } from "../model/index.ts";
import type { EmbedOutcome } from "./types.ts";

export interface TextEmbedderOptions {
  /** Token ids of any text must be below this (the vocabulary size). */
  vocabularySize: number;
  maxBatchSize: number;
  maxWaitMs: number;
  maxQueue: number;
  observer?: BatcherObserver;
  onItemError?: (code: string) => void;
}

interface PreparedTexts {
  ids: BigInt64Array;
  length: number;
  lengths: number[];
  valid: EmbedOutcome[];
}

/**
 * Embeds token-id sequences (start and end tokens included, as the edge's tokenizer gives them), batching across
 * requests. Rows are padded to the longest sequence in the batch, not to the context length: the causal mask keeps
 * every real position blind to the padding after it, so the embedding at the end token is the same.
 */
export class TextEmbedder {
  private readonly batcher: Batcher<Uint32Array, EmbedOutcome, PreparedTexts>;
  private readonly model: ClipEncoders;

  constructor(model: ClipEncoders, options: TextEmbedderOptions) {
    this.model = model;
    const contextLength = model.folder.contextLength;
    this.batcher = new Batcher<Uint32Array, EmbedOutcome, PreparedTexts>({
      maxBatchSize: options.maxBatchSize,
      maxWaitMs: options.maxWaitMs,
      maxQueue: options.maxQueue,
      observer: options.observer,
      prepare: (texts) => {
        const valid = texts.map((ids) => checkIds(ids, contextLength, options.vocabularySize));
        const length = Math.max(1, ...texts.map((ids, i) => (valid[i]?.ok ? ids.length : 1)));
        const rows = new BigInt64Array(texts.length * length);
        for (const [row, ids] of texts.entries()) {
          if (!valid[row]?.ok) continue;
          for (let i = 0; i < ids.length; i++) rows[row * length + i] = BigInt(ids[i] as number);
        }
        return { ids: rows, length, lengths: texts.map((ids, i) => (valid[i]?.ok ? ids.length : 1)), valid };
      },
      execute: async (prepared) => {
        const outcomes: ItemOutcome<EmbedOutcome>[] = [];
        let embeddings: Float32Array | undefined;
        if (prepared.valid.some((v) => v.ok)) {
          const raw = await this.model.embedTexts({
            ids: prepared.ids,
            count: prepared.valid.length,
            length: prepared.length,
            lengths: prepared.lengths,
          });
          embeddings = normalizeRows(raw, this.model.embeddingDim);
        }
        const dim = this.model.embeddingDim;
        for (const [i, check] of prepared.valid.entries()) {
          if (check.ok && embeddings)
            outcomes.push({
              ok: true,
              value: { ok: true, embedding: embeddings.slice(i * dim, (i + 1) * dim) },
            });
          else {
            if (!check.ok) options.onItemError?.(check.code);
            outcomes.push({ ok: true, value: check });
          }
        }
        return outcomes;
      },
    });
  }

  embed(ids: Uint32Array, signal?: AbortSignal): Promise<EmbedOutcome> {
    return this.batcher.submit(ids, { signal });
  }

  stats() {
    return this.batcher.stats();
  }

  /** When `count` more texts submitted now would be embedded (Batcher.estimateCompletion); undefined without history. */
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

function checkIds(ids: Uint32Array, contextLength: number, vocabularySize: number): EmbedOutcome {
  if (ids.length === 0)
    return { ok: false, code: "invalid_tokens", message: "a text needs at least one token" };
  if (ids.length > contextLength) {
    return {
      ok: false,
      code: "text_too_long",
      message: `${ids.length} tokens; the model's context is ${contextLength}`,
    };
  }
  for (const id of ids) {
    if (id >= vocabularySize)
      return {
        ok: false,
        code: "invalid_tokens",
        message: `token id ${id} is outside the vocabulary (${vocabularySize})`,
      };
  }
  return { ok: true, embedding: new Float32Array(0) };
}
