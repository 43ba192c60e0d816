import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { cosineSimilarity } from "../../../src/vector/index.ts";
import { servicesFor } from "../index.ts";
import { asStored, decodeEmbedding, encodeEmbedding } from "./kv-codec.ts";
import { Lru } from "./lru.ts";
import { TextEmbeddingService } from "./text-embedding-service.ts";

describe("TextEmbeddingService", () => {
  it("computes concurrent identical misses once (coalescing), on the real GPU tier", async () => {
    const services = servicesFor(env);
    const texts = new TextEmbeddingService({
      tokenizer: services.tokenizer,
      modelId: services.model.id,
      vocabularyHash: `coalesce-${Date.now()}`,
      embeddingDim: services.model.embeddingDim,
      contextLength: 77,
      kv: env.TEXT_CACHE,
      kvTtlSeconds: 3600,
      lruSize: 100,
    });
    const batches: number[] = [];
    const compute = async (rows: Uint32Array[]) => {
      batches.push(rows.length);
      const result = await services.inference.embedTexts(rows);
      return result.ok
        ? { ok: true as const, embeddings: result.embeddings }
        : { ok: false as const, error: result };
    };
    const pending: Promise<unknown>[] = [];
    const waitUntil = (p: Promise<unknown>) => pending.push(p);
    const words = ["a green star", "a red square", "a green star"];
    const [one, two] = await Promise.all([
      texts.embedTexts(words, compute, waitUntil),
      texts.embedTexts(words, compute, waitUntil),
    ]);
    await Promise.all(pending);
    expect(batches).toEqual([2]);
    // Each request waited on two computed texts (one started them, one joined); its repeat is served once.
    expect([one.computed, two.computed]).toEqual([2, 2]);
    expect([one.cached, two.cached]).toEqual([1, 1]);
    expect(one.embeddings[0]).toEqual(two.embeddings[2]);
    const third = await texts.embedTexts(words, compute, waitUntil);
    expect(third).toMatchObject({ computed: 0, cached: 3 });
    expect(batches).toEqual([2]);
  });
});

describe("KV value codec", () => {
  it("stores float16 with a cosine error below 1e-3 (random unit vectors, 512-d)", () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return (seed / 2 ** 31) * 2 - 1;
    };
    for (let trial = 0; trial < 50; trial++) {
      const v = asStored(Float32Array.from({ length: 512 }, random));
      const original = Float32Array.from(v, (x) => x * (1 + 1e-9));
      const decoded = decodeEmbedding(encodeEmbedding({ embedding: original, truncated: false }), 512)
        ?.embedding as Float32Array;
      expect(1 - cosineSimilarity(original, decoded)).toBeLessThan(1e-3);
      expect(encodeEmbedding({ embedding: original, truncated: false }).length).toBeLessThan(1400);
    }
  });

  it("treats malformed or mis-sized values as misses", () => {
    const value = encodeEmbedding({ embedding: new Float32Array([1, 0, 0, 0]), truncated: true });
    expect(decodeEmbedding(value, 4)).toEqual({ embedding: new Float32Array([1, 0, 0, 0]), truncated: true });
    expect(decodeEmbedding(value, 5)).toBeUndefined();
    expect(decodeEmbedding("h1:@@@", 4)).toBeUndefined();
    expect(decodeEmbedding("v0:AAAA", 2)).toBeUndefined();
    expect(decodeEmbedding(null, 4)).toBeUndefined();
  });
});

describe("Lru", () => {
  it("evicts the least recently used entry", () => {
    const lru = new Lru<string, number>(2);
    lru.set("a", 1);
    lru.set("b", 2);
    lru.get("a");
    lru.set("c", 3);
    expect([lru.has("a"), lru.has("b"), lru.has("c")]).toEqual([true, false, true]);
    expect(lru.size).toBe(2);
  });
});
