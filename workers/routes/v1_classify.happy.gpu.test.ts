import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { type ClassifyResponse, DEFAULT_TEMPLATES } from "../../src/api/index.ts";
import { allLabels, bytesOf, callWorker, postJson, shape } from "../../test/support/workers/worker.ts";
import { KV_WRITES_PER_REQUEST } from "../services/text-embeddings/cache-writes.ts";

const ALL_LABELS = allLabels();

const templates = ["a photo of a {}."];

/** Text-cache entries under a prefix, over every page of KV's listing. */
async function cacheEntries(prefix: string): Promise<number> {
  let count = 0;
  let cursor: string | undefined;
  do {
    const page = await env.TEXT_CACHE.list({ prefix, cursor });
    count += page.keys.length;
    cursor = page.list_complete ? undefined : page.cursor;
  } while (cursor);
  return count;
}

describe("POST /v1/classify", () => {
  it("ranks the right colour and shape first for a fresh render, with softmax scores and raw similarities", async () => {
    const red = shape("red circle");
    const response = await postJson("/v1/classify", {
      images: [{ base64: red.base64 }],
      labels: ALL_LABELS,
      templates,
      top_k: 5,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("x-request-id")).toMatch(/^req_[0-9a-f]{32}$/);
    const body = (await response.json()) as ClassifyResponse;
    expect(body.provider).toBe("gpu");
    expect(body.model).toBe(response.headers.get("x-clip-model"));
    expect(body.preprocessing).toMatch(/^pil-exact-2\+/);
    const labels = body.results[0]?.labels ?? [];
    expect(labels).toHaveLength(5);
    expect(labels[0]?.label).toBe("red circle");
    expect(labels.map((l) => l.score)).toEqual([...labels.map((l) => l.score)].sort((a, b) => b - a));
    // Served by the GPU tier, every label has its raw cosine (only the hosted fallback's are null).
    for (const l of labels) expect(Math.abs(l.similarity ?? Number.NaN)).toBeLessThanOrEqual(1);
  });

  it("uses the default template ensemble over all 32 labels (224 prompts in one GPU batch) and still ranks right", async () => {
    const response = await postJson("/v1/classify", {
      images: [{ base64: shape("white circle").base64 }],
      labels: ALL_LABELS,
      top_k: 1,
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as ClassifyResponse;
    expect(body.results[0]?.labels[0]?.label).toBe("white circle");
    expect(body.usage.texts_computed + body.usage.texts_cached).toBe(
      ALL_LABELS.length * DEFAULT_TEMPLATES.length,
    );
  });

  it("takes 1,000 labels through the default templates (7,000 prompts, several GPU frames) and finds the right one", async () => {
    const labels = Array.from({ length: 1000 }, (_, i) =>
      i === 617 ? "orange star" : `${ALL_LABELS[i % 32]} number ${i}`,
    );
    const before = await cacheEntries("lbl:v1:");
    const response = await postJson("/v1/classify", {
      images: [{ base64: shape("orange star").base64 }],
      labels,
      top_k: 3,
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as ClassifyResponse;
    expect(body.results[0]?.labels.map((l) => l.label)).toContain("orange star");
    expect(body.usage.texts_computed + body.usage.texts_cached).toBe(1000 * DEFAULT_TEMPLATES.length);
    // Its cache writes came after the answer, and no more than a request's share of KV operations.
    expect((await cacheEntries("lbl:v1:")) - before).toBe(KV_WRITES_PER_REQUEST);
  }, 300_000);

  it("gives probabilities over all labels that sum to one when top_k is left out", async () => {
    const response = await postJson("/v1/classify", {
      images: [{ base64: shape("blue square").base64 }],
      labels: ["blue square", "red star", "green circle"],
      templates,
    });
    const body = (await response.json()) as ClassifyResponse;
    const scores = body.results[0]?.labels.map((l) => l.score) ?? [];
    expect(scores).toHaveLength(3);
    expect(scores.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
  });

  it("serves a repeated request's text embeddings from the cache (usage and KV both show it)", async () => {
    const labels = ["yellow star", "white circle", "black triangle", "orange square"];
    const request = {
      images: [{ base64: shape("yellow star").base64 }],
      labels,
      templates: ["a bad photo of the {}.", "a toy {}."],
    };
    const before = { labels: await cacheEntries("lbl:v1:"), texts: await cacheEntries("txt:v1:") };
    const first = (await (await postJson("/v1/classify", request)).json()) as ClassifyResponse;
    expect(first.usage).toEqual({ images: 1, texts_computed: 8, texts_cached: 0 });
    // One KV entry per new label, none for its prompts.
    expect({ labels: await cacheEntries("lbl:v1:"), texts: await cacheEntries("txt:v1:") }).toEqual({
      labels: before.labels + 4,
      texts: before.texts,
    });
    const second = (await (await postJson("/v1/classify", request)).json()) as ClassifyResponse;
    expect(second.usage).toEqual({ images: 1, texts_computed: 0, texts_cached: 8 });
    expect(second.results).toEqual(first.results);
    // A new isolate (other bindings object, empty LRU) reads the same answer from KV alone.
    const fromKv = (await (
      await postJson("/v1/classify", request, { TEXT_LRU_SIZE: "7" })
    ).json()) as ClassifyResponse;
    expect(fromKv.usage).toEqual({ images: 1, texts_computed: 0, texts_cached: 8 });
    expect(fromKv.results).toEqual(first.results);
  });

  it("answers multipart/form-data exactly as JSON", async () => {
    const image = shape("green triangle");
    const json = (await (
      await postJson("/v1/classify", {
        images: [{ base64: image.base64 }],
        labels: ALL_LABELS,
        templates,
        top_k: 3,
      })
    ).json()) as ClassifyResponse;
    const form = new FormData();
    form.append("image", new Blob([bytesOf(image.base64)], { type: image.mime }), "shape");
    for (const label of ALL_LABELS) form.append("labels", label);
    form.append("templates", JSON.stringify(templates));
    form.append("top_k", "3");
    const multipart = (await (
      await callWorker("/v1/classify", { method: "POST", body: form })
    ).json()) as ClassifyResponse;
    expect(multipart.results).toEqual(json.results);
  });

  it("classifies several images in one request, each against the same labels", async () => {
    const names = ["purple square", "orange circle", "black star"];
    const response = await postJson("/v1/classify", {
      images: names.map((n) => ({ base64: shape(n).base64 })),
      labels: ALL_LABELS,
      templates,
      top_k: 1,
    });
    const body = (await response.json()) as ClassifyResponse;
    expect(body.results).toHaveLength(3);
    expect(body.usage.images).toBe(3);
    expect(body.results.every((r) => r.labels.length === 1)).toBe(true);
  });

  it("reports a label cut to the context length, and still classifies", async () => {
    const long = `red ${"very ".repeat(100)}circle`;
    const body = (await (
      await postJson("/v1/classify", {
        images: [{ base64: shape("red circle").base64 }],
        labels: [long, "blue star"],
        templates,
      })
    ).json()) as ClassifyResponse;
    expect(body.warnings).toEqual([
      expect.objectContaining({ code: "label_truncated", pointer: "/labels/0" }),
    ]);
    expect(body.results[0]?.labels).toHaveLength(2);
  });
});
