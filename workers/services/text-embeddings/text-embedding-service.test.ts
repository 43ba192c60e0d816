import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { DEFAULT_TEMPLATES } from "../../../src/api/index.ts";
import { fillTemplate } from "../../../src/tokenizer/index.ts";
import { ensemble, float16ToFloat32, float32ToFloat16, normalizeInPlace } from "../../../src/vector/index.ts";
import { servicesFor } from "../index.ts";
import type { TextEmbeddingProvider } from "../inference.ts";
import { CacheWrites, KV_WRITES_PER_REQUEST } from "./cache-writes.ts";
import { asStored } from "./kv-codec.ts";
import { TextEmbeddingService, type TextRequest } from "./text-embedding-service.ts";

// The fast paths of the label path (prompts spliced from template and label tokens, one promise per batch, rows
// ensembled apart, float16 answers widened once) against the plain computation they replace, bit for bit.

const { tokenizer, model } = servicesFor(env);
const dim = model.embeddingDim;

/** A stand-in GPU tier: each row's embedding is a pseudo-random unit vector drawn from its ids, as float16 bits. */
function deterministicEncoder() {
  const rowsSeen: number[][] = [];
  const calls: number[] = [];
  const encoder: TextEmbeddingProvider = {
    embedTexts: async (rows) => {
      calls.push(rows.length);
      for (const row of rows) rowsSeen.push(Array.from(row));
      return { ok: true, value: rows.map((row) => answerFor(Array.from(row))) };
    },
  };
  return { encoder, rowsSeen, calls };
}

function answerFor(ids: readonly number[]): Uint16Array {
  let state = 2166136261;
  for (const id of ids) state = Math.imul(state ^ id, 16777619) >>> 0;
  const v = Float32Array.from({ length: dim }, () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state / 2 ** 32 - 0.5;
  });
  normalizeInPlace(v);
  return float32ToFloat16(v);
}

/** What the text path computed before its fast paths: every prompt tokenized whole, answers rounded, stacked, ensembled. */
function referenceLabel(label: string, templates: readonly string[]): Float32Array {
  const { ids, lengths } = tokenizer.tokenize(
    templates.map((template) => fillTemplate(template, label)),
    { contextLength: model.contextLength },
  );
  const stacked = new Float32Array(templates.length * dim);
  for (const [r, row] of ids.entries())
    stacked.set(asStored(float16ToFloat32(answerFor(Array.from(row.subarray(0, lengths[r]))))), r * dim);
  return asStored(ensemble(stacked, dim));
}

function serviceWith(encoder: TextEmbeddingProvider, vocabularyHash: string) {
  return new TextEmbeddingService({
    encoder,
    computeDeadlineMs: 30_000,
    tokenizer,
    modelId: model.id,
    vocabularyHash,
    embeddingDim: dim,
    contextLength: model.contextLength,
    kv: env.TEXT_CACHE,
    kvTtlSeconds: 3600,
    lruSize: 1000,
  });
}

function requestFor(): TextRequest & { cacheWrites: CacheWrites } {
  return {
    budget: { deadline: Date.now() + 60_000 },
    waitUntil: () => {},
    cacheWrites: new CacheWrites(KV_WRITES_PER_REQUEST, () => {}),
  };
}

const bits = (v: Float32Array) => Array.from(new Uint32Array(v.buffer, v.byteOffset, v.length));

// Spliced ones, ones tokenized whole (punctuation or & at an end, non-ASCII ends), repeats that clean alike,
// $-patterns, and one long enough to be cut.
const LABELS = [
  "red car",
  "T-shirt size 42",
  "café au lait",
  "dog!",
  "AT&T logo",
  "été",
  "Dog",
  "dog",
  "$$5 bill",
  "rock'n'roll",
  Array.from({ length: 80 }, (_, i) => `w${i}`).join(" "),
];
const CUSTOM_TEMPLATES = ["{}", "a {}'s toy", "x{}y", "une photo d'un {} été", "{} and {}"];

/** The deterministic encoder behind a gate: its answers wait until `release()` is called. */
function gatedEncoder() {
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const fake = deterministicEncoder();
  const slow: TextEmbeddingProvider = {
    embedTexts: async (rows, budget) => {
      await gate;
      return fake.encoder.embedTexts(rows, budget);
    },
  };
  return { fake, slow, release: () => release() };
}

describe("TextEmbeddingService's label path", () => {
  it("gives each label the whole-prompt reference bit for bit, and sends the GPU tier the whole prompts' ids", async () => {
    for (const templates of [DEFAULT_TEMPLATES, CUSTOM_TEMPLATES]) {
      const fake = deterministicEncoder();
      const texts = serviceWith(fake.encoder, `reference-${crypto.randomUUID()}`);
      const request = requestFor();
      const embedded = await texts.embedLabels(LABELS, templates, request);
      if (!embedded.ok) throw new Error(embedded.failure.message);
      for (const [i, label] of LABELS.entries())
        expect(bits(embedded.value.embeddings[i] as Float32Array), label).toEqual(
          bits(referenceLabel(label, templates)),
        );
      expect(embedded.value.truncated.at(-1)).toBe(true);
      // Every distinct prompt's ids went to the GPU tier once — "Dog" and "dog" tokenize alike.
      const { ids, lengths } = tokenizer.tokenize(
        LABELS.filter((label) => label !== "Dog").flatMap((label) =>
          templates.map((t) => fillTemplate(t, label)),
        ),
        { contextLength: model.contextLength },
      );
      const expected = new Set(ids.map((row, r) => JSON.stringify(Array.from(row.subarray(0, lengths[r])))));
      expect(fake.rowsSeen.map((row) => JSON.stringify(row)).sort()).toEqual([...expected].sort());
      expect(fake.calls).toHaveLength(1);
      // "dog" cleans like "Dog": computed once, counted once as computed and once as cached.
      expect(embedded.value.computed).toBe(expected.size);
      expect(embedded.value.computed + embedded.value.cached).toBe(LABELS.length * templates.length);
    }
  });

  it("serves the same vectors, bit for bit, from KV in a new isolate and from the LRU in this one", async () => {
    const vocabularyHash = `round-trip-${crypto.randomUUID()}`;
    const first = serviceWith(deterministicEncoder().encoder, vocabularyHash);
    const request = requestFor();
    const labels = await first.embedLabels(LABELS, DEFAULT_TEMPLATES, request);
    const phrases = ["a drawing of a dog", "two red stars", "AT&T"];
    const texts = await first.embedTexts(phrases, request);
    await request.cacheWrites.start();
    if (!labels.ok || !texts.ok) throw new Error("the fake encoder failed");

    const fake = deterministicEncoder();
    const other = serviceWith(fake.encoder, vocabularyHash);
    const fromKv = await other.embedLabels(LABELS, DEFAULT_TEMPLATES, requestFor());
    const textsFromKv = await other.embedTexts(phrases, requestFor());
    const fromLru = await other.embedLabels(LABELS, DEFAULT_TEMPLATES, requestFor());
    expect(fake.calls).toEqual([]);
    for (const served of [fromKv, fromLru]) {
      if (!served.ok) throw new Error("served from the cache, this cannot fail");
      expect(served.value.embeddings.map(bits)).toEqual(labels.value.embeddings.map(bits));
      expect(served.value.truncated).toEqual(labels.value.truncated);
      expect(served.value).toMatchObject({ computed: 0, cached: LABELS.length * DEFAULT_TEMPLATES.length });
    }
    if (!textsFromKv.ok) throw new Error("served from the cache, this cannot fail");
    expect(textsFromKv.value.embeddings.map(bits)).toEqual(texts.value.embeddings.map(bits));
  });

  it("serves a text the GPU tier's float16 answer widened and renormalised, as rounding it again would", async () => {
    const fake = deterministicEncoder();
    const texts = serviceWith(fake.encoder, `text-${crypto.randomUUID()}`);
    const text = await texts.embedTexts(["a photo of a red car.", "AT&T"], requestFor());
    if (!text.ok) throw new Error("the fake encoder failed");
    for (const [i, phrase] of ["a photo of a red car.", "AT&T"].entries())
      expect(bits(text.value.embeddings[i] as Float32Array)).toEqual(
        bits(asStored(float16ToFloat32(answerFor(tokenizer.encode(phrase))))),
      );
  });

  it("a label whose request stopped waiting is still made and kept, so a retry finds it", async () => {
    const { fake, slow, release } = gatedEncoder();
    const texts = serviceWith(slow, `gave-up-${crypto.randomUUID()}`);
    const kept: Promise<unknown>[] = [];
    const hurried = {
      ...requestFor(),
      budget: { deadline: Date.now() + 30 },
      waitUntil: (p: Promise<unknown>) => void kept.push(p),
    };
    expect(await texts.embedLabels(["red car", "blue car"], DEFAULT_TEMPLATES, hurried)).toMatchObject({
      ok: false,
      failure: { code: "upstream_timeout" },
    });
    release();
    await Promise.all(kept);
    const retried = await texts.embedLabels(["red car", "blue car"], DEFAULT_TEMPLATES, requestFor());
    expect(retried).toMatchObject({ ok: true, value: { computed: 0, cached: 14 } });
    expect(fake.calls).toEqual([14]);
    if (!retried.ok) throw new Error("served from the cache, this cannot fail");
    expect(bits(retried.value.embeddings[1] as Float32Array)).toEqual(
      bits(referenceLabel("blue car", DEFAULT_TEMPLATES)),
    );
  });

  it("requests needing the same prompts at once share one computation", async () => {
    const { fake, slow, release } = gatedEncoder();
    const texts = serviceWith(slow, `shared-computation-${crypto.randomUUID()}`);
    const one = texts.embedLabels(["red car", "blue car"], DEFAULT_TEMPLATES, requestFor());
    const two = texts.embedLabels(["blue car", "green car"], DEFAULT_TEMPLATES, requestFor());
    await new Promise((resolve) => setTimeout(resolve, 50));
    release();
    const [a, b] = await Promise.all([one, two]);
    expect(fake.calls).toEqual([14, 7]); // "blue car"'s prompts were joined, not sent again
    expect(a).toMatchObject({ ok: true, value: { computed: 14, cached: 0 } });
    expect(b).toMatchObject({ ok: true, value: { computed: 14, cached: 0 } });
    if (!a.ok || !b.ok) throw new Error("the fake encoder failed");
    expect(bits(b.value.embeddings[0] as Float32Array)).toEqual(bits(a.value.embeddings[1] as Float32Array));
  });
});
