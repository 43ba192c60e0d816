import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeResponse, embeddingToFloat32 } from "../src/protocol/index.ts";
import { dot } from "../src/vector/index.ts";
import {
  frame,
  modelPresent,
  signedGet,
  signedPost,
  startTestService,
  TEST_MODEL_DIR,
} from "../test/support/gpu-service.ts";
import { loadClipTokenizer } from "./model/tokenizer-files.ts";
import type { RunningService } from "./service.ts";

const solid = (r: number, g: number, b: number, format: "png" | "jpeg" = "png") =>
  sharp({ create: { width: 320, height: 240, channels: 3, background: { r, g, b } } })
    [format]()
    .toBuffer()
    .then((b) => new Uint8Array(b));

describe.skipIf(!modelPresent())("GPU service over HTTP (real model, real onnxruntime, real sharp)", () => {
  let service: RunningService;
  beforeAll(async () => {
    service = await startTestService();
  }, 120_000);
  afterAll(() => service?.shutdown());

  it("is alive and, once warm, ready", async () => {
    expect(await (await fetch(`${service.url}/healthz`)).json()).toEqual({ status: "ok" });
    const ready = await fetch(`${service.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as { status: string }).status).toBe("ready");
  });

  it("embeds images: unit vectors, one per item, a corrupt one failing alone", async () => {
    const images = [
      await solid(255, 0, 0),
      new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]),
      await solid(0, 0, 255, "jpeg"),
    ];
    const response = await signedPost(
      `${service.url}/v1/embed/images`,
      frame({ kind: "images", dtype: "f32", images }),
    );
    expect(response.status).toBe(200);
    const decoded = decodeResponse(new Uint8Array(await response.arrayBuffer()));
    if (!decoded.ok) throw new Error(decoded.message);
    const { items, dim, modelId, preprocessingVersion } = decoded.value;
    expect(modelId).toBe(service.deps.model.folder.id);
    expect(preprocessingVersion).toMatch(/^pil-exact-2\+[0-9a-f]{10}$/);
    expect(items.map((i) => i.status)).toEqual(["ok", "invalid_image", "ok"]);
    for (const item of [items[0], items[2]]) {
      if (item?.status !== "ok") throw new Error("expected ok");
      const v = embeddingToFloat32(item.embedding);
      expect(v.length).toBe(dim);
      expect(dot(v, v)).toBeCloseTo(1, 5);
    }
  });

  it("embeds texts in float16 when asked, matching the float32 answer to 1e-3", async () => {
    const tokenizer = await loadClipTokenizer(TEST_MODEL_DIR);
    const texts = ["a photo of a red circle.", "three blue stars", ""].map((t) => tokenizer.encode(t));
    const ask = async (dtype: "f16" | "f32") => {
      const response = await signedPost(
        `${service.url}/v1/embed/texts`,
        frame({ kind: "texts", dtype, texts }),
      );
      const decoded = decodeResponse(new Uint8Array(await response.arrayBuffer()));
      if (!decoded.ok) throw new Error(decoded.message);
      return decoded.value.items.map((item) =>
        item.status === "ok" ? embeddingToFloat32(item.embedding) : undefined,
      );
    };
    const [half, full] = [await ask("f16"), await ask("f32")];
    for (const [i, f] of full.entries()) {
      expect(f).toBeDefined();
      const h = half[i] as Float32Array;
      expect(
        Math.max(...Array.from(f as Float32Array, (x, k) => Math.abs(x - (h[k] as number)))),
      ).toBeLessThan(1e-3);
    }
  });

  it("embeds a frame of 1,024 texts (a classify with many labels × templates sends them at once)", async () => {
    const tokenizer = await loadClipTokenizer(TEST_MODEL_DIR);
    const texts = Array.from({ length: 1024 }, (_, i) => tokenizer.encode(`a photo of ${i} red circles`));
    const response = await signedPost(
      `${service.url}/v1/embed/texts`,
      frame({ kind: "texts", dtype: "f16", texts }),
    );
    expect(response.status).toBe(200);
    const decoded = decodeResponse(new Uint8Array(await response.arrayBuffer()), { maxItems: 1024 });
    if (!decoded.ok) throw new Error(decoded.message);
    expect(decoded.value.items).toHaveLength(1024);
    expect(decoded.value.items.every((item) => item.status === "ok")).toBe(true);
  });

  it("fails over-long and out-of-vocabulary texts alone", async () => {
    const tokenizer = await loadClipTokenizer(TEST_MODEL_DIR);
    const ok = tokenizer.encode("a red square");
    const tooLong = new Array(78).fill(ok[1]);
    const outside = [ok[0] as number, tokenizer.vocabularySize + 5, ok.at(-1) as number];
    const response = await signedPost(
      `${service.url}/v1/embed/texts`,
      frame({ kind: "texts", dtype: "f32", texts: [ok, tooLong, outside] }),
    );
    const decoded = decodeResponse(new Uint8Array(await response.arrayBuffer()));
    if (!decoded.ok) throw new Error(decoded.message);
    expect(decoded.value.items.map((i) => i.status)).toEqual(["ok", "text_too_long", "invalid_tokens"]);
  });

  it("batches concurrent requests together (the batch-size histogram sees batches larger than one)", async () => {
    const image = await solid(0, 200, 0);
    await Promise.all(
      Array.from({ length: 24 }, () =>
        signedPost(
          `${service.url}/v1/embed/images`,
          frame({ kind: "images", dtype: "f16", images: [image] }),
        ),
      ),
    );
    const metrics = await (await signedGet(`${service.url}/metrics`)).text();
    const batches = Number(/clip_batch_size_count\{kind="image"\} (\d+)/.exec(metrics)?.[1]);
    const items = Number(/clip_batch_size_sum\{kind="image"\} (\d+)/.exec(metrics)?.[1]);
    expect(items / batches).toBeGreaterThan(1);
    expect(metrics).toMatch(/clip_stage_seconds_bucket\{le="[^"]+",kind="image",stage="inference"\}/);
    expect(metrics).toMatch(/clip_item_errors_total\{kind="image",code="invalid_image"\} 1/);
  });

  it("answers the Hugging Face zero-shot contract: labels best first, scores summing to one", async () => {
    const image = Buffer.from(await solid(255, 0, 0)).toString("base64");
    const body = JSON.stringify({
      inputs: { image },
      parameters: { candidate_labels: ["red circle", "blue star", "green square"] },
    });
    const response = await signedPost(
      `${service.url}/hf/zero-shot-image-classification`,
      new TextEncoder().encode(body),
      "application/json",
    );
    expect(response.status).toBe(200);
    const results = (await response.json()) as { label: string; score: number }[];
    expect(results.map((r) => r.label).sort()).toEqual(["blue star", "green square", "red circle"]);
    expect(results.reduce((s, r) => s + r.score, 0)).toBeCloseTo(1, 6);
    expect(results[0]?.score).toBeGreaterThanOrEqual(results[1]?.score ?? 1);
  });
});
