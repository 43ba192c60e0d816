import {
  type ClipTokenizer,
  cleanText,
  type PromptTokens,
  TemplatePrompts,
} from "../../../src/tokenizer/index.ts";
import { ensembleRows, widenToUnit } from "../../../src/vector/index.ts";
import type { TextEmbeddingProvider } from "../inference.ts";
import { type CallBudget, failed, type Outcome, succeeded, withinBudget } from "../upstream.ts";
import type { CacheWrites } from "./cache-writes.ts";
import { type Computation, ComputationsInFlight, type ComputedText, type Pending } from "./in-flight.ts";
import { idsKey, labelKeys, textKey } from "./keys.ts";
import {
  asStoredInPlace,
  type CachedText,
  decodeEmbedding,
  encodeEmbedding,
  fromHalves,
} from "./kv-codec.ts";
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
type KvKeyOf = (key: string) => string;

type Filled = Outcome<{ values: CachedText[]; computed: number; cached: number }>;

/** Where each row's value comes from (a cache, or a computation in flight), and how many waited on the GPU tier. */
interface Placed {
  places: (CachedText | Pending)[];
  computed: number;
}

const KV_BATCH = 100; // KV's bulk get takes at most 100 keys.
/** Template sets kept with their pieces tokenized: a deployment uses a few (the defaults, its callers' own). */
const TEMPLATE_SETS_KEPT = 32;

/** A template set this isolate has seen: a short id for the memo's keys, and its pieces tokenized once asked for. */
interface TemplateSet {
  id: number;
  prompts?: TemplatePrompts;
}

/**
 * The edge's text path: tokenize with the bundled vocabulary, look each text up in the isolate's LRU, then KV (bulk
 * reads), send only the misses to the encoder as one batch, write them back to KV after the response
 * ({@link CacheWrites}). Identical misses in flight at the same time — within a request or across requests in this
 * isolate — are computed once. Label embeddings ensembled over templates are cached the same way, one KV entry per
 * label: their prompts are shared only while in flight, so N new labels cost at most N writes, whatever the templates.
 *
 * A shared computation is not tied to the request that started it: it runs to its own deadline (kept alive by that
 * request's `waitUntil`), so when the first client disconnects the others still get their answer and the cache is
 * still filled — a label's own entry too, so a client that gave up and retries finds its labels ready. Each request waits only as long as its own budget allows. Failures are values, never thrown.
 *
 * Two isolate LRUs: `memo`, keyed by the raw input, makes a warm request skip tokenizing and hashing altogether;
 * `byKey`, keyed like KV (by token ids), shares one entry between spellings that tokenize alike.
 * Built once per isolate; per-request state is passed in.
 *
 * Counts: a text is `computed` when this request found it in no cache (it waited on the GPU tier, whether its own
 * computation or another request's); everything else is `cached`, repeats within the request among them — the same
 * text twice, or two spellings that tokenize alike (labels: that clean alike), which are computed and written once.
 *
 * @example
 * const texts = await service.embedTexts(["a dog"], { budget: scope, waitUntil });
 * if (texts.ok) texts.value.embeddings[0]; else throw upstreamProblem(texts.failure);
 */
export class TextEmbeddingService {
  private readonly options: TextEmbeddingServiceOptions;
  private readonly memo: Lru<string, CachedText>;
  private readonly byKey: Lru<string, CachedText>;
  private readonly inFlight = new ComputationsInFlight();
  /** By the templates joined with U+0001 (which no template holds). Ids are never reused, so keys never mix sets. */
  private readonly templateSets = new Lru<string, TemplateSet>(TEMPLATE_SETS_KEPT);
  private nextTemplateSetId = 0;

  constructor(options: TextEmbeddingServiceOptions) {
    this.options = options;
    this.memo = new Lru(options.lruSize);
    this.byKey = new Lru(options.lruSize);
  }

  /** Unit-length embeddings of raw texts, in order. */
  embedTexts(texts: readonly string[], request: TextRequest): Promise<Outcome<EmbeddedTexts>> {
    return this.resolve(
      texts.map((text) => `t\u0000${text}`),
      1,
      async (missing) => {
        const { ids, lengths, truncated } = this.options.tokenizer.tokenize(
          missing.map((i) => texts[i] as string),
          { contextLength: this.options.contextLength },
        );
        const rows = ids.map((row, m) => ({
          ids: row.subarray(0, lengths[m]),
          truncated: truncated[m] as boolean,
        }));
        const { places, computed } = await this.place(rows, request, true);
        const all = await withinBudget(this.inFlight.valuesOf(places), request.budget);
        if (!all.ok) return all;
        return succeeded({ values: all.value, computed, cached: rows.length - computed });
      },
    );
  }

  /**
   * Label embeddings ensembled over prompt templates (the CLIP paper's method), cached per (templates, label).
   * `truncated[i]` tells whether any of label i's prompts was cut to the context length. Counts are in prompts.
   * A label's prompts are tokenized by splicing it into the templates' tokens ({@link TemplatePrompts}) and shared
   * only while in flight; the label's own entry is what the LRU and KV keep, made even if this request stops waiting.
   */
  async embedLabels(
    labels: readonly string[],
    templates: readonly string[],
    request: TextRequest,
  ): Promise<Outcome<EmbeddedTexts>> {
    const templateSet = this.templateSetOf(templates);
    return this.resolve(
      // Keyed by the set's short id, not its text: a warm label is one short key to hash, not 200 characters.
      labels.map((label) => `l${templateSet.id}\u0000${label}`),
      templates.length,
      async (missing) => {
        const { modelId, vocabularyHash, embeddingDim } = this.options;
        const keyOf = labelKeys(modelId, vocabularyHash, templates.map(cleanText));
        const keys = missing.map((i) => keyOf(cleanText(labels[i] as string)));
        const found = await this.lookUp(keys, (key) => key);
        // The first label of each key not found is computed; one that cleans alike rides along, as a repeat.
        const uncached = new Map<string, number>();
        for (const [m, key] of keys.entries())
          if (!found.has(key) && !uncached.has(key)) uncached.set(key, m);
        const counts = { computed: 0, cached: (missing.length - uncached.size) * templates.length };
        if (uncached.size > 0) {
          templateSet.prompts ??= new TemplatePrompts(
            this.options.tokenizer,
            templates,
            this.options.contextLength,
          );
          const prompts = templateSet.prompts;
          const rows = [...uncached.values()].flatMap((m) =>
            prompts.of(labels[missing[m] as number] as string),
          );
          const placed = await this.place(rows, request, false);
          counts.computed += placed.computed;
          counts.cached += rows.length - placed.computed;
          // Ensembled and stored when the prompts arrive, whether or not this request still waits for them.
          const ensembled = this.inFlight.textsOf(placed.places).then((prompts) => {
            if (!prompts.ok) return prompts;
            const ensemble = labelEnsemble(templates.length, embeddingDim);
            for (const [u, key] of [...uncached.keys()].entries()) {
              const value = ensemble(prompts.value, u * templates.length);
              found.set(key, value);
              this.store(key, value, request.cacheWrites, (kvKey) => kvKey);
            }
            return succeeded(undefined);
          });
          request.waitUntil(ensembled);
          const done = await withinBudget(ensembled, request.budget);
          if (!done.ok) return done;
        }
        return succeeded({ values: keys.map((key) => found.get(key) as CachedText), ...counts });
      },
    );
  }

  /**
   * Texts (`cached`) through the key LRU and KV; one computation starts for the misses nobody is computing yet.
   * A label's prompts are in no cache (only their label is), so they skip the look-ups and go straight to the
   * computations in flight. Rows that tokenize alike are looked up and computed once.
   */
  private async place(rows: readonly PromptTokens[], request: TextRequest, cached: boolean): Promise<Placed> {
    // In the isolate a text is keyed by its token ids themselves (exact, no hashing); only KV, whose keys are
    // bounded, needs the SHA-256 one, computed for the texts that go there — never for a label's prompts.
    const keys = rows.map((row) => idsKey(row.ids));
    const kvKeyOf = cached ? this.textKvKeys(keys, rows) : undefined;
    const found = cached ? await this.lookUp(keys, kvKeyOf) : new Map<string, CachedText>();
    const places = new Map<string, CachedText | Pending | undefined>();
    const toCompute = new Map<string, PromptTokens>();
    let computed = 0;
    for (const [m, key] of keys.entries()) {
      if (places.has(key)) continue;
      const hit = found.get(key);
      if (hit) {
        places.set(key, hit);
        continue;
      }
      computed++;
      const pending = this.inFlight.find(key);
      places.set(key, pending);
      if (!pending) toCompute.set(key, rows[m] as PromptTokens);
    }
    if (toCompute.size > 0) {
      const computation = this.startComputing(toCompute, request, kvKeyOf);
      for (const [index, key] of computation.keys.entries()) places.set(key, { computation, index });
    }
    return { places: keys.map((key) => places.get(key) as CachedText | Pending), computed };
  }

  /**
   * Serves what the memo LRU has and asks `fill` for the rest (by index), memoising what it returns. Identical inputs
   * within one call are filled once; repeats count as cached. `unit` is how many texts one input stands for.
   */
  private async resolve(
    memoKeys: readonly string[],
    unit: number,
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
   * The key LRU first, then (given `kvKeyOf`, which names an isolate key's KV key) KV in bulk for what it lacks and
   * nobody is computing; KV hits are promoted into the LRU. Answers by isolate key.
   */
  private async lookUp(keys: readonly string[], kvKeyOf?: KvKeyOf): Promise<Map<string, CachedText>> {
    const found = new Map<string, CachedText>();
    const fromKv: string[] = [];
    for (const key of new Set(keys)) {
      const hit = this.byKey.get(key);
      if (hit) found.set(key, hit);
      else if (kvKeyOf && !this.inFlight.find(key)) fromKv.push(key);
    }
    if (!kvKeyOf || fromKv.length === 0) return found;
    const kvKeys = fromKv.map(kvKeyOf);
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

  /** The KV key of each text's isolate key: `txt:` and the SHA-256 of its ids, made only when asked for. */
  private textKvKeys(keys: readonly string[], rows: readonly PromptTokens[]): KvKeyOf {
    const idsOf = new Map(keys.map((key, m) => [key, (rows[m] as PromptTokens).ids]));
    const { modelId, vocabularyHash } = this.options;
    return (key) => textKey(modelId, vocabularyHash, idsOf.get(key) as Int32Array);
  }

  /** The isolate's entry for a template set, made the first time the set is seen (again, once evicted). */
  private templateSetOf(templates: readonly string[]): TemplateSet {
    const text = templates.join("\u0001");
    let set = this.templateSets.get(text);
    if (!set) {
      set = { id: this.nextTemplateSetId++ };
      this.templateSets.set(text, set);
    }
    return set;
  }

  /**
   * Starts one computation for a batch of misses, shared through `inFlight` by every request that needs them. It
   * runs to its own deadline with no request's abort signal, and the starting request's `waitUntil` keeps it alive
   * after that request has answered or its client has gone. Given `kvKeyOf` (texts), each result is its own array
   * and goes to the key LRU and, through that request's share of KV writes, to KV; otherwise (a label's prompts) the
   * results are views into one buffer for the batch, read by the labels that need them and then dropped.
   */
  private startComputing(
    batch: Map<string, PromptTokens>,
    request: TextRequest,
    kvKeyOf: KvKeyOf | undefined,
  ): Computation {
    const keys = [...batch.keys()];
    const rows = [...batch.values()];
    const deadline = Date.now() + this.options.computeDeadlineMs;
    const values = this.options.encoder
      .embedTexts(
        // The ids as the wire wants them: non-negative, so the same values viewed as unsigned, without a copy.
        rows.map(({ ids }) => new Uint32Array(ids.buffer, ids.byteOffset, ids.length)),
        { deadline },
      )
      .then(
        (outcome): Outcome<ComputedText[]> =>
          outcome.ok ? this.answered(outcome.value, rows, kvKeyOf) : outcome,
        // The encoder returns failures as values; a throw is a bug in it, reported as an upstream error, never lost.
        (error: unknown) =>
          failed("upstream_error", `computing text embeddings failed: ${(error as Error)?.message ?? error}`),
      );
    const computation: Computation = { keys, texts: values, expiresAt: deadline + 1_000 };
    this.inFlight.add(computation);
    request.waitUntil(
      values.then((outcome) => {
        if (outcome.ok && kvKeyOf)
          for (const [i, key] of keys.entries())
            this.store(key, outcome.value[i] as CachedText, request.cacheWrites, kvKeyOf);
        // Stored first, then forgotten: a request arriving in between finds them in the LRU, never nowhere.
        this.inFlight.forget(computation);
      }),
    );
    return computation;
  }

  /**
   * The GPU tier's float16 answers, checked: for texts (given `kvKeyOf`), widened into the values served and kept;
   * for a label's prompts, left as they came, for the label's ensemble to widen as it reads them.
   */
  private answered(
    answers: readonly Uint16Array[],
    rows: readonly PromptTokens[],
    kvKeyOf: KvKeyOf | undefined,
  ): Outcome<ComputedText[]> {
    const dim = this.options.embeddingDim;
    if (answers.length !== rows.length || answers.some((halves) => halves.length !== dim))
      return failed(
        "upstream_error",
        `the GPU tier answered ${answers.length} texts for ${rows.length}, or not ${dim}-d`,
      );
    return succeeded(
      answers.map((halves, i) => {
        const truncated = (rows[i] as PromptTokens).truncated;
        return kvKeyOf ? { embedding: fromHalves(halves), truncated } : { halves, truncated };
      }),
    );
  }

  /**
   * Into the LRU now, and into KV under `kvKeyOf(key)` once the request has answered (if its share of writes
   * allows): the KV key and value are made then, off the answer's path.
   */
  private store(key: string, value: CachedText, writes: CacheWrites, kvKeyOf: KvKeyOf): void {
    this.byKey.set(key, value);
    writes.add(() =>
      this.options.kv.put(kvKeyOf(key), encodeEmbedding(value), {
        expirationTtl: this.options.kvTtlSeconds,
      }),
    );
  }
}

/**
 * A label's value from its prompts' (`texts[first…first + templates)`): each prompt widened and renormalised into a
 * buffer reused label after label (it stays in the CPU's cache; 700 prompts never fill one large array), the rows
 * ensembled with the dots their normalisation returned, the result rounded as KV stores it. The same bits as widening
 * every prompt into its own array (`fromHalves`), then `asStored(ensemble(…))`.
 */
function labelEnsemble(
  templates: number,
  dim: number,
): (texts: readonly ComputedText[], first: number) => CachedText {
  const widened = new Float32Array(templates * dim);
  const buffers: Float32Array[] = new Array(templates);
  const offsets: number[] = new Array(templates);
  const selfDots: number[] = new Array(templates);
  return (texts, first) => {
    let truncated = false;
    for (let j = 0; j < templates; j++) {
      const text = texts[first + j] as ComputedText;
      truncated ||= text.truncated;
      if ("halves" in text) {
        buffers[j] = widened;
        offsets[j] = j * dim;
        selfDots[j] = widenToUnit(text.halves, widened, j * dim);
      } else {
        buffers[j] = text.embedding;
        offsets[j] = 0;
        selfDots[j] = Number.NaN;
      }
    }
    // Rounded to what KV stores, so an answer from the cache equals the first one bit for bit.
    return { embedding: asStoredInPlace(ensembleRows(buffers, dim, selfDots, offsets)), truncated };
  };
}
