import { type ClipTokenizer, cleanText } from "../../../src/tokenizer/index.ts";
import { ensemble } from "../../../src/vector/index.ts";
import { labelKey, textKey } from "./keys.ts";
import { asStored, decodeEmbedding, encodeEmbedding } from "./kv-codec.ts";
import { Lru } from "./lru.ts";

/** Computes embeddings of token-id rows on the GPU tier (unit length, one per row), or fails as a whole. */
export type ComputeTexts = (
  rows: Uint32Array[],
) => Promise<{ ok: true; embeddings: Float32Array[] } | { ok: false; error: unknown }>;

export interface TextEmbeddingServiceOptions {
  tokenizer: ClipTokenizer;
  modelId: string;
  vocabularyHash: string;
  embeddingDim: number;
  contextLength: number;
  kv: KVNamespace;
  /** Seconds a KV entry lives; renewed whenever it is computed again. */
  kvTtlSeconds: number;
  /** Entries kept in the isolate's LRU, in front of KV. */
  lruSize: number;
}

export interface TextCounts {
  computed: number;
  cached: number;
}

export interface EmbeddedTexts extends TextCounts {
  embeddings: Float32Array[];
  /** Per text: cut to the context length. */
  truncated: boolean[];
}

/** A failure of the GPU tier, passed through to the caller unchanged. */
export class TextComputeError extends Error {
  constructor(cause: unknown) {
    super("computing text embeddings failed", { cause });
  }
}

const KV_BATCH = 100; // KV's bulk get takes at most 100 keys.

/**
 * The edge's text path: normalise and tokenize with the bundled vocabulary, look each text up in the isolate's LRU,
 * then KV (bulk reads), send only the misses to the GPU tier as one batch, write them back to KV after the response
 * (`waitUntil`). Identical misses in flight at the same time — within a request or across requests in this isolate
 * — are computed once. Label embeddings ensembled over templates are cached the same way.
 *
 * Built once per isolate; per-request state is passed in.
 */
export class TextEmbeddingService {
  private readonly options: TextEmbeddingServiceOptions;
  private readonly lru: Lru<string, Float32Array>;
  private readonly inFlight = new Map<string, Promise<Float32Array>>();

  constructor(options: TextEmbeddingServiceOptions) {
    this.options = options;
    this.lru = new Lru(options.lruSize);
  }

  /** Unit-length embeddings of raw texts, in order. Throws TextComputeError when the GPU tier fails. */
  async embedTexts(
    texts: readonly string[],
    compute: ComputeTexts,
    waitUntil: (p: Promise<unknown>) => void,
  ): Promise<EmbeddedTexts> {
    const { ids, lengths, truncated } = this.options.tokenizer.tokenize(texts, {
      contextLength: this.options.contextLength,
    });
    const rows = ids.map((row, i) => row.subarray(0, lengths[i]));
    const keys = await Promise.all(
      rows.map((row) => textKey(this.options.modelId, this.options.vocabularyHash, row)),
    );
    const found = await this.lookUp(keys);
    const counts: TextCounts = { computed: 0, cached: 0 };

    // Misses not already being computed elsewhere in this isolate go to the GPU tier in one batch.
    const toCompute = new Map<string, Uint32Array>();
    for (const [i, key] of keys.entries()) {
      if (found.has(key)) counts.cached++;
      else {
        if (!this.inFlight.has(key)) toCompute.set(key, Uint32Array.from(rows[i] as Int32Array));
        counts.computed++;
      }
    }
    if (toCompute.size > 0) this.startComputing(toCompute, compute, waitUntil);
    const embeddings = await Promise.all(
      keys.map((key) => found.get(key) ?? (this.inFlight.get(key) as Promise<Float32Array>)),
    );
    return { embeddings, truncated, ...counts };
  }

  /**
   * Label embeddings ensembled over prompt templates (the CLIP paper's method), cached per (templates, label).
   * `truncated[i]` tells whether any of label i's prompts was cut to the context length.
   */
  async embedLabels(
    labels: readonly string[],
    templates: readonly string[],
    compute: ComputeTexts,
    waitUntil: (p: Promise<unknown>) => void,
  ): Promise<EmbeddedTexts> {
    const normalizedTemplates = templates.map(cleanText);
    const keys = await Promise.all(
      labels.map((label) =>
        labelKey(this.options.modelId, this.options.vocabularyHash, normalizedTemplates, cleanText(label)),
      ),
    );
    const found = await this.lookUp(keys);
    const missing = labels.map((_, i) => i).filter((i) => !found.has(keys[i] as string));
    const counts: TextCounts = { computed: 0, cached: (labels.length - missing.length) * templates.length };
    const truncated = labels.map(() => false);
    if (missing.length > 0) {
      const prompts = missing.flatMap((i) =>
        templates.map((template) => template.replaceAll("{}", labels[i] as string)),
      );
      const texts = await this.embedTexts(prompts, compute, waitUntil);
      counts.computed += texts.computed;
      counts.cached += texts.cached;
      const writes: Promise<unknown>[] = [];
      for (const [m, i] of missing.entries()) {
        const rows = texts.embeddings.slice(m * templates.length, (m + 1) * templates.length);
        const stacked = new Float32Array(rows.length * this.options.embeddingDim);
        for (const [r, row] of rows.entries()) stacked.set(row, r * this.options.embeddingDim);
        // Rounded to what KV stores, so an answer from the cache equals the first one bit for bit.
        const embedding = asStored(ensemble(stacked, this.options.embeddingDim));
        truncated[i] = texts.truncated.slice(m * templates.length, (m + 1) * templates.length).some(Boolean);
        found.set(keys[i] as string, embedding);
        writes.push(this.store(keys[i] as string, embedding));
      }
      waitUntil(Promise.all(writes));
    }
    return { embeddings: keys.map((key) => found.get(key) as Float32Array), truncated, ...counts };
  }

  /** The LRU first, then KV in bulk for what the LRU lacks; KV hits are promoted into the LRU. */
  private async lookUp(keys: readonly string[]): Promise<Map<string, Float32Array>> {
    const found = new Map<string, Float32Array>();
    const fromKv: string[] = [];
    for (const key of new Set(keys)) {
      const hit = this.lru.get(key);
      if (hit) found.set(key, hit);
      else if (!this.inFlight.has(key)) fromKv.push(key);
    }
    for (let start = 0; start < fromKv.length; start += KV_BATCH) {
      const values = await this.options.kv.get(fromKv.slice(start, start + KV_BATCH), "text");
      for (const [key, value] of values) {
        const embedding = decodeEmbedding(value, this.options.embeddingDim);
        if (embedding) {
          found.set(key, embedding);
          this.lru.set(key, embedding);
        }
      }
    }
    return found;
  }

  private startComputing(
    batch: Map<string, Uint32Array>,
    compute: ComputeTexts,
    waitUntil: (p: Promise<unknown>) => void,
  ): void {
    const keys = [...batch.keys()];
    const result = compute([...batch.values()]).then((r) => {
      if (!r.ok) throw new TextComputeError(r.error);
      return r.embeddings;
    });
    for (const [i, key] of keys.entries()) {
      const one = result.then((embeddings) => {
        const embedding = asStored(embeddings[i] as Float32Array);
        this.lru.set(key, embedding);
        waitUntil(this.store(key, embedding));
        return embedding;
      });
      one.catch(() => {}).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, one);
    }
  }

  private store(key: string, embedding: Float32Array): Promise<void> {
    this.lru.set(key, embedding);
    return this.options.kv
      .put(key, encodeEmbedding(embedding), { expirationTtl: this.options.kvTtlSeconds })
      .catch(() => {
        // A failed cache write only costs a recomputation later; the answer is already correct.
      });
  }
}
