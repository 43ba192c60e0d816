import { type ClipTokenizer, cleanText } from "../../../src/tokenizer/index.ts";
import { ensemble } from "../../../src/vector/index.ts";
import type { TextEmbeddingProvider } from "../inference.ts";
import { type CallBudget, failed, type Outcome, succeeded, withinBudget } from "../upstream.ts";
import type { CacheWrites } from "./cache-writes.ts";
import { idsKey, labelKey, textKey } from "./keys.ts";
import { asStored, type CachedText, decodeEmbedding, encodeEmbedding } from "./kv-codec.ts";
import { Lru } from "./lru.ts";

/** The slice of Workers KV the cache uses (KVNamespace satisfies it), so the service also runs outside workerd. */
export interface TextCacheStore {
  get(keys: string[], type: "text"): Promise<Map<string, string | null>>;
  put(key: string, value: string, options: { expirationTtl: number }): Promise<void>;
}

export interface TextEmbeddingServiceOptions {
  /** Where missing embeddings are computed (the GPU tier). */
  encoder: TextEmbeddingProvider;
  /**
   * How long a computation may run. It is shared by every request that needs the same texts and belongs to none of
   * them, so it has its own deadline rather than the first request's.
   */
  computeDeadlineMs: number;
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

/** What one request brings to a lookup: how long it may wait, and how to keep work alive after it answers. */
export interface TextRequest {
  budget: CallBudget;
  /** Keeps shared computations running after the response (the Worker's `waitUntil`). */
  waitUntil: (promise: Promise<unknown>) => void;
  /** The request's KV writes, made once it has answered. */
  cacheWrites: CacheWrites;
}

/** An isolate key's KV key: the SHA-256 one for texts (their isolate key is their token ids), itself for labels. */
type KvKeyOf = (key: string) => Promise<string>;

type Filled = Outcome<{ values: CachedText[]; computed: number; cached: number }>;

const KV_BATCH = 100; // KV's bulk get takes at most 100 keys.

/**
 * The edge's text path: tokenize with the bundled vocabulary, look each text up in the isolate's LRU, then KV (bulk
 * reads), send only the misses to the encoder as one batch, write them back to KV after the response
 * ({@link CacheWrites}). Identical misses in flight at the same time — within a request or across requests in this
 * isolate — are computed once. Label embeddings ensembled over templates are cached the same way, one KV entry per
 * label: their prompts live only in the isolate's LRU, so N new labels cost at most N writes, whatever the templates.
 *
 * A shared computation is not tied to the request that started it: it runs to its own deadline (kept alive by that
 * request's `waitUntil`), so when the first client disconnects the others still get their answer and the cache is
 * still filled. Each request waits only as long as its own budget allows. Failures are values, never thrown.
 *
 * Two isolate LRUs: `memo`, keyed by the raw input, makes a warm request skip tokenizing and hashing altogether;
 * `byKey`, keyed like KV (by token ids), shares one entry between spellings that tokenize alike.
 * Built once per isolate; per-request state is passed in.
 *
 * @example
 * const texts = await service.embedTexts(["a dog"], { budget: scope, waitUntil });
 * if (texts.ok) texts.value.embeddings[0]; else throw upstreamProblem(texts.failure);
 */
export class TextEmbeddingService {
  private readonly options: TextEmbeddingServiceOptions;
  private readonly memo: Lru<string, CachedText>;
  private readonly byKey: Lru<string, CachedText>;
  /**
   * Computations in flight, by cache key. Each entry is dropped when its computation settles; `expiresAt` guards the
   * case where the runtime cancelled the chain that would drop it, so a key is never stuck waiting on nothing.
   */
  private readonly inFlight = new Map<string, { value: Promise<Outcome<CachedText>>; expiresAt: number }>();

  constructor(options: TextEmbeddingServiceOptions) {
    this.options = options;
    this.memo = new Lru(options.lruSize);
    this.byKey = new Lru(options.lruSize);
  }

  /** Unit-length embeddings of raw texts, in order. */
  embedTexts(texts: readonly string[], request: TextRequest): Promise<Outcome<EmbeddedTexts>> {
    return this.embedRows(texts, request, true);
  }

  /**
   * `cache`: whether the texts are cached in KV and the memo LRU — or, as a label's prompts are, only shared while
   * in flight and kept in the key LRU (for a retry of a request that gave up): the label's own entry is what a later
   * request looks for.
   */
  private async embedRows(
    texts: readonly string[],
    request: TextRequest,
    cache: boolean,
  ): Promise<Outcome<EmbeddedTexts>> {
    return this.resolve(
      texts.map((text) => `t\u0000${text}`),
      1,
      cache,
      async (missing) => {
        const { ids, lengths, truncated } = this.options.tokenizer.tokenize(
          missing.map((i) => texts[i] as string),
          { contextLength: this.options.contextLength },
        );
        const rows = ids.map((row, m) => row.subarray(0, lengths[m]));
        // In the isolate a text is keyed by its token ids themselves (exact, no hashing); only KV, whose keys are
        // bounded, needs the SHA-256 one, computed for the texts that go there — never for a label's prompts.
        const keys = rows.map(idsKey);
        const kvKeys = new Map(keys.map((key, m) => [key, rows[m] as Int32Array]));
        const kvKeyOf = (key: string) =>
          textKey(this.options.modelId, this.options.vocabularyHash, kvKeys.get(key) as Int32Array);
        const found = await this.lookUp(keys, cache ? kvKeyOf : undefined);
        let computed = 0;
        const toCompute = new Map<string, { row: Uint32Array; truncated: boolean }>();
        for (const [m, key] of keys.entries()) {
          if (found.has(key)) continue;
          computed++;
          if (!this.computing(key))
            toCompute.set(key, {
              row: Uint32Array.from(rows[m] as Int32Array),
              truncated: truncated[m] as boolean,
            });
        }
        if (toCompute.size > 0) this.startComputing(toCompute, request, cache ? kvKeyOf : undefined);
        const pending = keys.map(
          (key) =>
            (found.has(key) ? undefined : this.computing(key)) ??
            Promise.resolve(succeeded(found.get(key) as CachedText)),
        );
        const all = await withinBudget(collect(pending), request.budget);
        if (!all.ok) return all;
        return succeeded({ values: all.value, computed, cached: missing.length - computed });
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
    request: TextRequest,
  ): Promise<Outcome<EmbeddedTexts>> {
    const templateSet = templates.join("\u0001");
    return this.resolve(
      labels.map((label) => `l\u0000${templateSet}\u0000${label}`),
      templates.length,
      true,
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
        const found = await this.lookUp(keys, async (key) => key);
        const uncached = keys.flatMap((key, m) => (found.has(key) ? [] : [m]));
        const counts = { computed: 0, cached: (missing.length - uncached.length) * templates.length };
        if (uncached.length > 0) {
          const prompts = uncached.flatMap((m) =>
            templates.map((template) => template.replaceAll("{}", labels[missing[m] as number] as string)),
          );
          const embedded = await this.embedRows(prompts, request, false);
          if (!embedded.ok) return embedded;
          const texts = embedded.value;
          counts.computed += texts.computed;
          counts.cached += texts.cached;
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
            this.store(keys[m] as string, value, request.cacheWrites, async (key) => key);
          }
        }
        return succeeded({ values: keys.map((key) => found.get(key) as CachedText), ...counts });
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
    memoize: boolean,
    fill: (missing: number[]) => Promise<Filled>,
  ): Promise<Outcome<EmbeddedTexts>> {
    const values: (CachedText | undefined)[] = memoKeys.map((key) => this.memo.get(key));
    const firstOf = new Map<string, number>();
    const missing: number[] = [];
    for (const [i, key] of memoKeys.entries()) {
      if (values[i] || firstOf.has(key)) continue;
      firstOf.set(key, missing.length);
      missing.push(i);
    }
    const filled: Filled =
      missing.length > 0 ? await fill(missing) : succeeded({ values: [], computed: 0, cached: 0 });
    if (!filled.ok) return filled;
    if (memoize)
      for (const [m, i] of missing.entries())
        this.memo.set(memoKeys[i] as string, filled.value.values[m] as CachedText);
    for (const [i, key] of memoKeys.entries()) values[i] ??= filled.value.values[firstOf.get(key) as number];
    const served = values as CachedText[];
    return succeeded({
      embeddings: served.map((v) => v.embedding),
      truncated: served.map((v) => v.truncated),
      computed: filled.value.computed,
      cached: filled.value.cached + (memoKeys.length - missing.length) * unit,
    });
  }

  /**
   * The key LRU first, then (given `kvKeyOf`, which names an isolate key's KV key) KV in bulk for what it lacks; KV
   * hits are promoted into the LRU. Answers by isolate key.
   */
  private async lookUp(keys: readonly string[], kvKeyOf?: KvKeyOf): Promise<Map<string, CachedText>> {
    const found = new Map<string, CachedText>();
    const fromKv: string[] = [];
    for (const key of new Set(keys)) {
      const hit = this.byKey.get(key);
      if (hit) found.set(key, hit);
      else if (kvKeyOf && !this.computing(key)) fromKv.push(key);
    }
    if (!kvKeyOf || fromKv.length === 0) return found;
    const kvKeys = await Promise.all(fromKv.map(kvKeyOf));
    const isolateKeyOf = new Map(kvKeys.map((kvKey, i) => [kvKey, fromKv[i] as string]));
    for (let start = 0; start < kvKeys.length; start += KV_BATCH) {
      // A cache that cannot be read is a cache miss: the texts are computed, the answer is still right.
      const stored = await this.options.kv
        .get(kvKeys.slice(start, start + KV_BATCH), "text")
        .catch(() => new Map<string, string | null>());
      for (const [kvKey, value] of stored) {
        const decoded = decodeEmbedding(value, this.options.embeddingDim);
        const key = isolateKeyOf.get(kvKey);
        if (decoded && key !== undefined) {
          found.set(key, decoded);
          this.byKey.set(key, decoded);
        }
      }
    }
    return found;
  }

  /**
   * Starts one computation for a batch of misses, shared through `inFlight` by every request that needs them. It
   * runs to its own deadline with no request's abort signal, and the starting request's `waitUntil` keeps it alive
   * after that request has answered or its client has gone. The results go to the key LRU and, given `kvKeyOf`,
   * through that request's share of KV writes, to KV.
   */
  private startComputing(
    batch: Map<string, { row: Uint32Array; truncated: boolean }>,
    request: TextRequest,
    kvKeyOf: KvKeyOf | undefined,
  ): void {
    const entries = [...batch.entries()];
    const deadline = Date.now() + this.options.computeDeadlineMs;
    const computation = this.options.encoder
      .embedTexts(
        entries.map(([, { row }]) => row),
        { deadline },
      )
      .catch((error: unknown) =>
        // The encoder returns failures as values; a throw is a bug in it, reported as an upstream error, never lost.
        failed("upstream_error", `computing text embeddings failed: ${(error as Error)?.message ?? error}`),
      );
    const values = entries.map(([key, { truncated }], i) => {
      const one = computation.then((outcome): Outcome<CachedText> => {
        if (!outcome.ok) return outcome;
        return succeeded({ embedding: asStored(outcome.value[i] as Float32Array), truncated });
      });
      this.inFlight.set(key, { value: one, expiresAt: deadline + 1_000 });
      return one;
    });
    request.waitUntil(
      computation.then(async (outcome) => {
        // Only its own entries: one that expired may have been replaced by a newer computation of the same text.
        for (const [i, [key]] of entries.entries())
          if (this.inFlight.get(key)?.value === values[i]) this.inFlight.delete(key);
        if (!outcome.ok) return;
        for (const [i, v] of (await Promise.all(values)).entries()) {
          if (!v.ok) continue;
          const key = entries[i]?.[0] as string;
          // A label's prompts go to the key LRU only: when every request that needed them gave up first, a retry in
          // this isolate still finds them rather than computing them again.
          if (kvKeyOf) this.store(key, v.value, request.cacheWrites, kvKeyOf);
          else this.byKey.set(key, v.value);
        }
      }),
    );
  }

  /** The computation in flight for a key, unless it has outlived its deadline (then it is forgotten). */
  private computing(key: string): Promise<Outcome<CachedText>> | undefined {
    const entry = this.inFlight.get(key);
    if (entry && entry.expiresAt <= Date.now()) this.inFlight.delete(key);
    const value = this.inFlight.get(key)?.value;
    // Another request's promise: workerd rejects it for everyone else if the request that started it was cut off
    // before it settled. That is a lost computation, retryable — and forgotten, so the next request starts afresh.
    return value?.catch(() => {
      if (this.inFlight.get(key)?.value === value) this.inFlight.delete(key);
      return failed("gpu_unavailable", "a text computation this request shared was cut off; retry");
    });
  }

  /**
   * Into the LRU now, and into KV under `kvKeyOf(key)` once the request has answered (if its share of writes
   * allows): the KV key and value are made then, off the answer's path.
   */
  private store(key: string, value: CachedText, writes: CacheWrites, kvKeyOf: KvKeyOf): void {
    this.byKey.set(key, value);
    writes.add(async () =>
      this.options.kv.put(await kvKeyOf(key), encodeEmbedding(value), {
        expirationTtl: this.options.kvTtlSeconds,
      }),
    );
  }
}

/** All outcomes' values in order, or the first failure. */
async function collect<T>(pending: readonly Promise<Outcome<T>>[]): Promise<Outcome<T[]>> {
  const outcomes = await Promise.all(pending);
  const values: T[] = [];
  for (const outcome of outcomes) {
    if (!outcome.ok) return outcome;
    values.push(outcome.value);
  }
  return succeeded(values);
}
