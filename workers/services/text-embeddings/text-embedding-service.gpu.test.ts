import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { servicesFor } from "../index.ts";
import type { TextEmbeddingProvider } from "../inference.ts";
import type { CallBudget, Outcome } from "../upstream.ts";
import { CacheWrites, KV_WRITES_PER_REQUEST } from "./cache-writes.ts";
import { type TextCacheStore, TextEmbeddingService, type TextRequest } from "./text-embedding-service.ts";

/** The real KV, counting the bulk reads that have completed, so a test can wait until every request has looked. */
function countingKv() {
  let done = 0;
  const waiting: (() => void)[] = [];
  const kv: TextCacheStore = {
    get: async (keys, type) => {
      const found = await env.TEXT_CACHE.get(keys, type);
      done++;
      for (const wake of waiting.splice(0)) wake();
      return found;
    },
    put: (key, value, options) => env.TEXT_CACHE.put(key, value, options),
  };
  const readsDone = async (count: number) => {
    while (done < count) await new Promise<void>((wake) => waiting.push(wake));
  };
  return { kv, readsDone };
}

function serviceWith(encoder: TextEmbeddingProvider, name: string, kv: TextCacheStore = env.TEXT_CACHE) {
  const services = servicesFor(env);
  return new TextEmbeddingService({
    encoder,
    computeDeadlineMs: 30_000,
    tokenizer: services.tokenizer,
    modelId: services.model.id,
    // A fresh vocabulary hash per test keeps its KV keys apart from every other test's.
    vocabularyHash: `${name}-${crypto.randomUUID()}`,
    embeddingDim: services.model.embeddingDim,
    contextLength: 77,
    kv,
    kvTtlSeconds: 3600,
    lruSize: 100,
  });
}

/** An encoder the test answers by hand: each call waits until `answer()` or `fail()`; `nextCall()` awaits one. */
function manualEncoder(dim: number) {
  const calls: { rows: number; budget: CallBudget; settle: (o: Outcome<Uint16Array[]>) => void }[] = [];
  const waiting: (() => void)[] = [];
  const encoder: TextEmbeddingProvider = {
    embedTexts: (rows, budget) =>
      new Promise((settle) => {
        calls.push({ rows: rows.length, budget, settle });
        for (const wake of waiting.splice(0)) wake();
      }),
  };
  // One-hot float16 bits (0x3c00 is 1), as the GPU tier answers on the wire.
  const unit = (i: number) => Uint16Array.from({ length: dim }, (_, d) => (d === i % dim ? 0x3c00 : 0));
  /** Resolves once the encoder has been called `count` times in all (however slow the cache look-ups are). */
  const nextCall = async (count = calls.length + 1) => {
    while (calls.length < count) await new Promise<void>((wake) => waiting.push(wake));
    return calls[count - 1] as (typeof calls)[number];
  };
  return {
    encoder,
    calls,
    nextCall,
    answer: async (count?: number) => {
      const call = await nextCall(count ?? Math.max(1, calls.length));
      call.settle({ ok: true, value: Array.from({ length: call.rows }, (_, i) => unit(i)) });
    },
    fail: async (count?: number) => {
      const call = await nextCall(count ?? Math.max(1, calls.length));
      call.settle({ ok: false, failure: { code: "gpu_unavailable", message: "down", retryAfterSeconds: 3 } });
    },
  };
}

const later = () => ({ deadline: Date.now() + 60_000 });

/** A request that has already answered (its cache writes run as they come); `kept` collects its waitUntil work. */
function requestFor(budget: CallBudget = later(), kept?: Promise<unknown>[]): TextRequest {
  const keepAlive = (p: Promise<unknown>) => void kept?.push(p);
  const cacheWrites = new CacheWrites(KV_WRITES_PER_REQUEST, keepAlive);
  void cacheWrites.start();
  return { budget, waitUntil: keepAlive, cacheWrites };
}

describe("TextEmbeddingService", () => {
  it("computes concurrent identical misses once (coalescing), on the real GPU tier", async () => {
    const services = servicesFor(env);
    const batches: number[] = [];
    const counting: TextEmbeddingProvider = {
      embedTexts: (rows, budget) => {
        batches.push(rows.length);
        return services.inference.embedTexts(rows, budget);
      },
    };
    const texts = serviceWith(counting, "coalesce");
    const pending: Promise<unknown>[] = [];
    const request = requestFor(later(), pending);
    const words = ["a green star", "a red square", "a green star"];
    const [one, two] = await Promise.all([
      texts.embedTexts(words, request),
      texts.embedTexts(words, request),
    ]);
    await Promise.all(pending);
    expect(batches).toEqual([2]);
    if (!one.ok || !two.ok) throw new Error("the GPU tier failed");
    // Each request waited on two computed texts (one started them, one joined); its repeat is served once.
    expect([one.value.computed, two.value.computed]).toEqual([2, 2]);
    expect([one.value.cached, two.value.cached]).toEqual([1, 1]);
    expect(one.value.embeddings[0]).toEqual(two.value.embeddings[2]);
    const third = await texts.embedTexts(words, request);
    expect(third).toMatchObject({ ok: true, value: { computed: 0, cached: 3 } });
    expect(batches).toEqual([2]);
  });

  it("a shared computation is not tied to the first request: its client leaving does not fail the others", async () => {
    const fake = manualEncoder(servicesFor(env).model.embeddingDim);
    const cache = countingKv();
    const texts = serviceWith(fake.encoder, "first-leaves", cache.kv);
    const kept: Promise<unknown>[] = [];
    const firstClient = new AbortController();
    // Both at once: whichever resumes first from its cache look-up starts the computation, the other joins it.
    const first = texts.embedTexts(
      ["a blue circle"],
      requestFor({ ...later(), signal: firstClient.signal }, kept),
    );
    const second = texts.embedTexts(["a blue circle"], requestFor(later(), kept));
    const call = await fake.nextCall();
    await cache.readsDone(2); // both have looked in the cache: the second has joined the first's computation
    // The encoder got no request's signal: the computation belongs to none of them.
    expect(call.budget.signal).toBeUndefined();
    firstClient.abort();
    expect(await first).toMatchObject({ ok: false, failure: { code: "cancelled" } });
    await fake.answer();
    expect(await second).toMatchObject({ ok: true, value: { computed: 1 } });
    await Promise.all(kept);
    expect(fake.calls).toHaveLength(1);
  });

  it("finishes and fills the cache when every waiting client has gone", async () => {
    const fake = manualEncoder(servicesFor(env).model.embeddingDim);
    const cache = countingKv();
    const texts = serviceWith(fake.encoder, "all-leave", cache.kv);
    const kept: Promise<unknown>[] = [];
    const gone = new AbortController();
    const request = requestFor({ ...later(), signal: gone.signal }, kept);
    const waiting = [
      texts.embedTexts(["two red stars"], request),
      texts.embedTexts(["two red stars"], request),
    ];
    await fake.nextCall();
    await cache.readsDone(2);
    gone.abort();
    for (const outcome of await Promise.all(waiting)) expect(outcome.ok).toBe(false);
    await fake.answer();
    await Promise.all(kept); // the Worker's waitUntil: the computation, then its cache writes
    await Promise.all(kept);
    const again = await texts.embedTexts(["two red stars"], requestFor());
    expect(again).toMatchObject({ ok: true, value: { computed: 0, cached: 1 } });
    expect(fake.calls).toHaveLength(1);
  });

  it("returns the encoder's failure as a value, and computes again on the next call", async () => {
    const fake = manualEncoder(servicesFor(env).model.embeddingDim);
    const texts = serviceWith(fake.encoder, "failure");
    const request = requestFor();
    const failing = texts.embedLabels(["green square"], ["a photo of a {}.", "a drawing of a {}."], request);
    await fake.fail(1);
    expect(await failing).toEqual({
      ok: false,
      failure: { code: "gpu_unavailable", message: "down", retryAfterSeconds: 3 },
    });
    const retried = texts.embedLabels(["green square"], ["a photo of a {}.", "a drawing of a {}."], request);
    await fake.answer(2);
    expect(await retried).toMatchObject({ ok: true, value: { computed: 2, cached: 0 } });
  });

  it("writes KV only once the request has answered, one entry per new label and none for its prompts", async () => {
    const fake = manualEncoder(servicesFor(env).model.embeddingDim);
    const puts: string[] = [];
    const kv: TextCacheStore = {
      get: (keys, type) => env.TEXT_CACHE.get(keys, type),
      put: async (key, value, options) => {
        puts.push(key);
        await env.TEXT_CACHE.put(key, value, options);
      },
    };
    const texts = serviceWith(fake.encoder, "writes-after", kv);
    const templates = ["a photo of a {}.", "a drawing of a {}.", "a toy {}."];
    const labels = ["red star", "blue circle", "green square", "white star", "black circle"];
    const writes = new CacheWrites(3, () => {});
    const embedding = texts.embedLabels(labels, templates, {
      budget: later(),
      waitUntil: () => {},
      cacheWrites: writes,
    });
    await fake.answer(1);
    expect(await embedding).toMatchObject({ ok: true, value: { computed: 15, cached: 0 } });
    expect(puts).toEqual([]); // nothing competes with the request's own calls before it has answered
    await writes.start();
    expect(puts).toHaveLength(3); // its share; the other two labels live in this isolate's LRU
    for (const key of puts) expect(key).toMatch(/^lbl:v1:/);
    expect(writes.skipped).toBe(2);
    const again = await texts.embedLabels(labels, templates, requestFor());
    expect(again).toMatchObject({ ok: true, value: { computed: 0, cached: 15 } });
    expect(fake.calls).toHaveLength(1);
  });

  it("a waiter whose deadline passes gets upstream_timeout while the computation goes on for the others", async () => {
    const fake = manualEncoder(servicesFor(env).model.embeddingDim);
    const cache = countingKv();
    const texts = serviceWith(fake.encoder, "deadline", cache.kv);
    const hurried = texts.embedTexts(["one yellow star"], requestFor({ deadline: Date.now() + 20 }));
    const patient = texts.embedTexts(["one yellow star"], requestFor());
    expect(await hurried).toMatchObject({ ok: false, failure: { code: "upstream_timeout" } });
    await cache.readsDone(2); // the patient one has joined the computation
    await fake.answer(1);
    expect((await patient).ok).toBe(true);
    expect(fake.calls).toHaveLength(1);
  });
});
