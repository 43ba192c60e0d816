import { type ClipTokenizer, cleanText } from "../../../src/tokenizer/index.ts";
import { ensemble } from "../../../src/vector/index.ts";
import { labelKey, textKey } from "./keys.ts";
import { asStored, type CachedText, decodeEmbedding, encodeEmbedding } from "./kv-codec.ts";
import { Lru } from "./lru.ts";

/** Computes embeddings of token-id rows on the GPU tier (unit length, one per row), or fails as a whole. */
export type ComputeTexts = (
  rows: Uint32Array[],
) => Promise<{ ok: true; embeddings: Float32Array[] } | { ok: false; error: unknown }>;

/** The slice of Workers KV the cache uses (KVNamespace satisfies it), so the service also runs outside workerd. */
export interface TextCacheStore {
  get(keys: string[], type: "text"): Promise<Map<string, string | null>>;
  put(key: string, value: string, options: { expirationTtl: number }): Promise<void>;
}

export interface TextEmbeddingServiceOptions {
  tokenizer: ClipTokenizer;
  modelId: string;
  vocabularyHash: string;
  embeddingDim: number;
  contextLength: number;
  kv: TextCacheStore;
  /** Seconds a KV entry lives; renewed whenever it is computed again. */
  kvTtlSeconds: number;
  /** Entries kept in the isolate's LRUs, in front of KV. */
  lruSize: number;
}

export interface TextCounts {
  computed: number;
  cached: number;
}

export interface EmbeddedTexts extends TextCounts {
  embeddings: Float32Array[];
  /** Per text (or label): cut to the context length. */
  truncated: boolean[];
}

/** A failure of the GPU tier, passed through to the caller unchanged. */
export class TextComputeError extends Error {
  constructor(cause: unknown) {
    super("computing text embeddings failed", { cause });
  }
}

type WaitUntil = (promise: Promise<unknown>) => void;

const KV_BATCH = 100; // KV's bulk get takes at most 100 keys.

/**
 * The edge's text path: tokenize with the bundled vocabulary, look each text up in the isolate's LRU, then KV (bulk
 * reads), send only the misses to the GPU tier as one batch, write them back to KV after the response
 * (`waitUntil`). Identical misses in flight at the same time — within a request or across requests in this isolate —
 * are computed once. Label embeddings ensembled over templates are cached the same way.
 *
 * Two isolate LRUs: `memo`, keyed by the raw input, makes a warm request skip tokenizing and hashing altogether;
 * `byKey`, keyed like KV (by token ids), shares one entry between spellings that tokenize alike.
 * Built once per isolate; per-request state is passed in.
 */
export class TextEmbeddingService {
  private readonly options: TextEmbeddingServiceOptions;
  private readonly memo: Lru<string, CachedText>;
  private readonly byKey: Lru<string, CachedText>;
  private readonly inFlight = new Map<string, Promise<CachedText>>();

  constructor(options: TextEmbeddingServiceOptions) {
    this.options = options;
    this.memo = new Lru(options.lruSize);
    this.byKey = new Lru(options.lruSize);
  }

  /** Unit-length embeddings of raw texts, in order. Throws TextComputeError when the GPU tier fails. */
  async embedTexts(
    texts: readonly string[],
    compute: ComputeTexts,
    waitUntil: WaitUntil,
  ): Promise<EmbeddedTexts> {
    return this.resolve(
      texts.map((text) => `t\u0000${text}`),
      1,
      async (missing) => {
        const { ids, lengths, truncated } = this.options.tokenizer.tokenize(
          missing.map((i) => texts[i] as string),
          { contextLength: this.options.contextLength },
        );
        const rows = ids.map((row, m) => row.subarray(0, lengths[m]));
        const keys = await Promise.all(
          rows.map((row) => textKey(this.options.modelId, this.options.vocabularyHash, row)),
        );
        const found = await this.lookUp(keys);
        let computed = 0;
        const toCompute = new Map<string, { row: Uint32Array; truncated: boolean }>();
        for (const [m, key] of keys.entries()) {
          if (found.has(key)) continue;
          computed++;
          if (!this.inFlight.has(key))
            toCompute.set(key, {
              row: Uint32Array.from(rows[m] as Int32Array),
              truncated: truncated[m] as boolean,
            });
        }
        if (toCompute.size > 0) this.startComputing(toCompute, compute, waitUntil);
        const values = await Promise.all(
          keys.map((key) => found.get(key) ?? (this.inFlight.get(key) as Promise<CachedText>)),
        );
        return { values, computed, cached: missing.length - computed };
      },
    );
  }

  /**
   * Label embeddings ensembled over prompt templates (the CLIP paper's method), cached per (templates, label).
   * `truncated[i]` tells whether any of label i's prompts was cut to the context length. Counts are in prompts.
   */
  async embedLabels(
    labels: readonly string[],
    templates: readonly string[],
    compute: ComputeTexts,
    waitUntil: WaitUntil,
  ): Promise<EmbeddedTexts> {
    const templateSet = templates.join("\u0001");
    return this.resolve(
      labels.map((label) => `l\u0000${templateSet}\u0000${label}`),
      templates.length,
      async (missing) => {
        const normalizedTemplates = templates.map(cleanText);
        const keys = await Promise.all(
          missing.map((i) =>
            labelKey(
              this.options.modelId,
              this.options.vocabularyHash,
              normalizedTemplates,
              cleanText(labels[i] as string),
            ),
          ),
        );
        const found = await this.lookUp(keys);
        const uncached = keys.flatMap((key, m) => (found.has(key) ? [] : [m]));
        const counts = { computed: 0, cached: (missing.length - uncached.length) * templates.length };
        if (uncached.length > 0) {
          const prompts = uncached.flatMap((m) =>
            templates.map((template) => template.replaceAll("{}", labels[missing[m] as number] as string)),
          );
          const texts = await this.embedTexts(prompts, compute, waitUntil);
          counts.computed += texts.computed;
          counts.cached += texts.cached;
          const writes: Promise<void>[] = [];
          for (const [u, m] of uncached.entries()) {
            const span = [u * templates.length, (u + 1) * templates.length] as const;
            const stacked = new Float32Array(templates.length * this.options.embeddingDim);
            for (const [r, row] of texts.embeddings.slice(...span).entries())
              stacked.set(row, r * this.options.embeddingDim);
            // Rounded to what KV stores, so an answer from the cache equals the first one bit for bit.
            const value = {
              embedding: asStored(ensemble(stacked, this.options.embeddingDim)),
              truncated: texts.truncated.slice(...span).some(Boolean),
            };
            found.set(keys[m] as string, value);
            writes.push(this.store(keys[m] as string, value));
          }
          waitUntil(Promise.all(writes));
        }
        return { values: keys.map((key) => found.get(key) as CachedText), ...counts };
      },
    );
  }

  /**
   * Serves what the memo LRU has and asks `fill` for the rest (by index), memoising what it returns. Identical inputs
   * within one call are filled once; repeats count as cached. `unit` is how many texts one input stands for.
   */
  private async resolve(
    memoKeys: readonly string[],
    unit: number,
    fill: (missing: number[]) => Promise<{ values: CachedText[]; computed: number; cached: number }>,
  ): Promise<EmbeddedTexts> {
    const values: (CachedText | undefined)[] = memoKeys.map((key) => this.memo.get(key));
    const firstOf = new Map<string, number>();
    const missing: number[] = [];
    for (const [i, key] of memoKeys.entries()) {
      if (values[i] || firstOf.has(key)) continue;
      firstOf.set(key, missing.length);
      missing.push(i);
    }
    const filled = missing.length > 0 ? await fill(missing) : { values: [], computed: 0, cached: 0 };
    for (const [m, i] of missing.entries())
      this.memo.set(memoKeys[i] as string, filled.values[m] as CachedText);
    for (const [i, key] of memoKeys.entries()) values[i] ??= filled.values[firstOf.get(key) as number];
    const served = values as CachedText[];
    return {
      embeddings: served.map((v) => v.embedding),
      truncated: served.map((v) => v.truncated),
      computed: filled.computed,
      cached: filled.cached + (memoKeys.length - missing.length) * unit,
    };
  }

  /** The key LRU first, then KV in bulk for what it lacks; KV hits are promoted into the LRU. */
  private async lookUp(keys: readonly string[]): Promise<Map<string, CachedText>> {
    const found = new Map<string, CachedText>();
    const fromKv: string[] = [];
    for (const key of new Set(keys)) {
      const hit = this.byKey.get(key);
      if (hit) found.set(key, hit);
      else if (!this.inFlight.has(key)) fromKv.push(key);
    }
    for (let start = 0; start < fromKv.length; start += KV_BATCH) {
      const stored = await this.options.kv.get(fromKv.slice(start, start + KV_BATCH), "text");
      for (const [key, value] of stored) {
        const decoded = decodeEmbedding(value, this.options.embeddingDim);
        if (decoded) {
          found.set(key, decoded);
          this.byKey.set(key, decoded);
        }
      }
    }
    return found;
  }

  private startComputing(
    batch: Map<string, { row: Uint32Array; truncated: boolean }>,
    compute: ComputeTexts,
    waitUntil: WaitUntil,
  ): void {
    const entries = [...batch.entries()];
    const result = compute(entries.map(([, { row }]) => row)).then((r) => {
      if (!r.ok) throw new TextComputeError(r.error);
      return r.embeddings;
    });
    for (const [i, [key, { truncated }]] of entries.entries()) {
      const one = result.then((embeddings) => {
        const value = { embedding: asStored(embeddings[i] as Float32Array), truncated };
        waitUntil(this.store(key, value));
        return value;
      });
      one.catch(() => {}).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, one);
    }
  }

  private store(key: string, value: CachedText): Promise<void> {
    this.byKey.set(key, value);
    return this.options.kv
      .put(key, encodeEmbedding(value), { expirationTtl: this.options.kvTtlSeconds })
      .catch(() => {
        // A failed cache write only costs a recomputation later; the answer is already correct.
      });
  }
}
