import { describe, expect, it } from "vitest";
import type { EmbeddingsResponse, ModelInfo } from "../../src/api/index.ts";
import { callWorker, postJson, shape } from "../../test/support/workers/worker.ts";

const dotProduct = (a: number[], b: number[]) => a.reduce((sum, x, i) => sum + x * (b[i] as number), 0);

describe("POST /v1/embeddings", () => {
  it("embeds texts and images into one space: unit vectors, in input order, the matching text nearest its image", async () => {
    const input = [
      { text: "a photo of a blue star." },
      { image: { base64: shape("blue star").base64 } },
      "a photo of a yellow circle.",
      { image: { base64: shape("yellow circle").base64 } },
    ];
    const response = await postJson("/v1/embeddings", { input });
    expect(response.status).toBe(200);
    const body = (await response.json()) as EmbeddingsResponse;
    expect(body.object).toBe("list");
    expect(body.data.map((d) => d.index)).toEqual([0, 1, 2, 3]);
    const vectors = body.data.map((d) => d.embedding as number[]);
    for (const v of vectors) expect(dotProduct(v, v)).toBeCloseTo(1, 4);
    expect(body.usage).toEqual({ images: 2, texts_computed: 2, texts_cached: 0 });
    const [starText, starImage, circleText, circleImage] = vectors as [
      number[],
      number[],
      number[],
      number[],
    ];
    expect(dotProduct(starImage, starText)).toBeGreaterThan(dotProduct(starImage, circleText));
    expect(dotProduct(circleImage, circleText)).toBeGreaterThan(dotProduct(circleImage, starText));
  });

  it("accepts a bare string, and returns base64 float32 when asked, equal to the float form", async () => {
    const asFloat = (await (
      await postJson("/v1/embeddings", { input: "a red square" })
    ).json()) as EmbeddingsResponse;
    const asBase64 = (await (
      await postJson("/v1/embeddings", { input: "a red square", encoding_format: "base64" })
    ).json()) as EmbeddingsResponse;
    const bytes = Uint8Array.from(atob(asBase64.data[0]?.embedding as string), (c) => c.charCodeAt(0));
    expect(Array.from(new Float32Array(bytes.buffer))).toEqual(asFloat.data[0]?.embedding);
    expect(asBase64.usage.texts_cached).toBe(1);
  });

  it("accepts the served model's name in `model`, as OpenAI clients send it", async () => {
    const models = (await (await callWorker("/v1/models")).json()) as { data: ModelInfo[] };
    const id = models.data[0]?.id as string;
    expect((await postJson("/v1/embeddings", { input: ["x"], model: id })).status).toBe(200);
  });

  it("refuses the whole request, billing nothing, when an image cannot be decoded", async () => {
    const truncated = btoa(atob(shape("red circle").base64).slice(0, 300));
    const response = await postJson("/v1/embeddings", { input: ["a cat", { image: { base64: truncated } }] });
    expect(response.status).toBe(422);
    const problem = (await response.json()) as { code: string; errors: { pointer: string }[] };
    expect(problem.code).toBe("image_decode_failed");
    expect(problem.errors[0]?.pointer).toBe("/input/1/image");
  });
});

describe("GET /v1/models", () => {
  it("describes the served model: dimensions, context, image size, preprocessing, logit scale, vocabulary, upload size", async () => {
    const response = await callWorker("/v1/models");
    expect(response.status).toBe(200);
    const [model] = ((await response.json()) as { data: ModelInfo[] }).data;
    expect(model).toMatchObject({ object: "model", context_length: 77, image_size: 224 });
    expect(model?.embedding_dim).toBeGreaterThan(0);
    expect(model?.logit_scale).toBeGreaterThan(1);
    expect(model?.preprocessing.settings).toMatchObject({ resample: 3, crop_size: 224 });
    expect(model?.vocabulary.hash).toMatch(/^[0-9a-f]{16}$/);
    // Twice the input size, as JPEG: what the SDK's downsizeImage aims for.
    expect(model?.recommended_upload).toEqual({ min_short_side: 448, format: "jpeg" });
  });
});
