import {
  type BatchResponse,
  CONTENT_TYPE,
  decodeResponse,
  type EmbeddingDtype,
  embeddingToFloat32,
  encodeRequest,
} from "../../src/protocol/index.ts";
import type { GpuClient, GpuFailureCode } from "./gpu-client/gpu-client.ts";

/** The GPU tier's limit of texts per frame, and how many such frames one request keeps in flight. */
const TEXTS_PER_FRAME = 1024;
const FRAMES_IN_FLIGHT = 2;

export type InferenceFailure = {
  ok: false;
  code: GpuFailureCode | "no_caption_bank";
  message: string;
  retryAfterSeconds: number;
};

/** Per item: an embedding (float32, unit length) or the GPU tier's error code for that item. */
export type EmbeddedItem =
  | { ok: true; embedding: Float32Array }
  | { ok: false; code: string; message: string };

/** Per image from the GPU tier's caption search: the nearest captions, or the image's error code. */
export type CaptionItem =
  | { status: "ok"; captions: { index: number; text: string; score: number }[] }
  | { status: string; message: string };

export interface ServedModel {
  id: string;
  preprocessingVersion: string;
}

/** The GPU tier's embedding routes over the wire protocol, checking every answer comes from the model we serve. */
export class Inference {
  private readonly client: GpuClient;
  private readonly model: ServedModel;

  constructor(client: GpuClient, model: ServedModel) {
    this.client = client;
    this.model = model;
  }

  /** All images of a request in one signed call. */
  embedImages(
    images: readonly Uint8Array[],
    signal?: AbortSignal,
  ): Promise<{ ok: true; items: EmbeddedItem[] } | InferenceFailure> {
    return this.call("/v1/embed/images", { kind: "images", dtype: "f32", images }, signal);
  }

  /** Token-id rows; float16 on the wire, which is also what the cache stores, so fresh and cached answers agree. */
  async embedTexts(
    rows: readonly Uint32Array[],
    signal?: AbortSignal,
  ): Promise<{ ok: true; embeddings: Float32Array[] } | InferenceFailure> {
    // A frame carries at most TEXTS_PER_FRAME texts; 1,000 labels × 32 templates need several, sent a few at a
    // time so the GPU tier's text queue is not flooded by one request.
    const chunks: (readonly Uint32Array[])[] = [];
    for (let start = 0; start < rows.length; start += TEXTS_PER_FRAME)
      chunks.push(rows.slice(start, start + TEXTS_PER_FRAME));
    const answers: ({ ok: true; items: EmbeddedItem[] } | InferenceFailure)[] = [];
    for (let start = 0; start < chunks.length; start += FRAMES_IN_FLIGHT) {
      const wave = chunks.slice(start, start + FRAMES_IN_FLIGHT);
      answers.push(
        ...(await Promise.all(
          wave.map((texts) =>
            this.call("/v1/embed/texts", { kind: "texts", dtype: "f16" as EmbeddingDtype, texts }, signal),
          ),
        )),
      );
      const failure = answers.find((answer) => !answer.ok);
      if (failure && !failure.ok) return failure;
    }
    const items = answers.flatMap((answer) => (answer.ok ? answer.items : []));
    const failed = items.find((item) => !item.ok);
    if (failed && !failed.ok) {
      return {
        ok: false,
        code: "upstream_error",
        message: `a text failed on the GPU tier: ${failed.code} ${failed.message}`,
        retryAfterSeconds: 1,
      };
    }
    return { ok: true, embeddings: items.map((item) => (item as { embedding: Float32Array }).embedding) };
  }

  /** All images of a request in one signed call; the GPU tier embeds them and searches its caption bank. */
  async captions(
    images: readonly Uint8Array[],
    topK: number,
    signal?: AbortSignal,
  ): Promise<{ ok: true; results: CaptionItem[] } | InferenceFailure> {
    const sent = await this.send(
      `/v1/captions?top_k=${topK}`,
      { kind: "images", dtype: "f16", images },
      signal,
    );
    if (!sent.ok) return sent;
    const { response } = sent;
    const body = (await response.json()) as { model: string; preprocessing: string; results: CaptionItem[] };
    const mismatch = this.checkModel({ modelId: body.model, preprocessingVersion: body.preprocessing });
    if (mismatch) return { ok: false, code: "upstream_error", message: mismatch, retryAfterSeconds: 60 };
    return { ok: true, results: body.results };
  }

  private async call(
    path: string,
    request: Parameters<typeof encodeRequest>[0],
    signal?: AbortSignal,
  ): Promise<{ ok: true; items: EmbeddedItem[] } | InferenceFailure> {
    const sent = await this.send(path, request, signal);
    if (!sent.ok) return sent;
    const { response } = sent;
    const decoded = decodeResponse(new Uint8Array(await response.arrayBuffer()), {
      maxItems: TEXTS_PER_FRAME,
    });
    if (!decoded.ok)
      return {
        ok: false,
        code: "upstream_error",
        message: `the GPU tier's answer is malformed: ${decoded.message}`,
        retryAfterSeconds: 1,
      };
    const mismatch = this.checkModel(decoded.value);
    if (mismatch) return { ok: false, code: "upstream_error", message: mismatch, retryAfterSeconds: 60 };
    return {
      ok: true,
      items: decoded.value.items.map((item) =>
        item.status === "ok"
          ? { ok: true, embedding: embeddingToFloat32(item.embedding) }
          : { ok: false, code: item.status, message: item.message },
      ),
    };
  }

  /** Encodes, signs and posts a frame; any answer but a 2xx becomes a failure with the GPU tier's detail. */
  private async send(
    path: string,
    request: Parameters<typeof encodeRequest>[0],
    signal?: AbortSignal,
  ): Promise<{ ok: true; response: Response } | InferenceFailure> {
    const frame = encodeRequest(request, { maxItems: TEXTS_PER_FRAME });
    if (!frame.ok) throw new Error(`encoding a GPU request failed: ${frame.message}`);
    const sent = await this.client.post(path, frame.value, CONTENT_TYPE, signal);
    if (!sent.ok) return sent;
    const { response } = sent;
    if (response.ok) return { ok: true, response };
    const detail = (await response.text()).slice(0, 300);
    if (response.status === 404 && detail.includes("no_caption_bank")) {
      return {
        ok: false,
        code: "no_caption_bank",
        message: "this deployment's GPU tier has no caption bank",
        retryAfterSeconds: 60,
      };
    }
    return {
      ok: false,
      code: "upstream_error",
      message: `the GPU tier refused the batch (${response.status}): ${detail}`,
      retryAfterSeconds: 1,
    };
  }

  // Mixing models would silently corrupt the cache and every similarity, so a backend serving another model is an error.
  private checkModel(response: Pick<BatchResponse, "modelId" | "preprocessingVersion">): string | undefined {
    if (response.modelId !== this.model.id)
      return `a GPU backend serves model "${response.modelId}", this edge was built for "${this.model.id}"`;
    if (response.preprocessingVersion !== this.model.preprocessingVersion) {
      return `a GPU backend preprocesses as "${response.preprocessingVersion}", this edge expects "${this.model.preprocessingVersion}"`;
    }
    return undefined;
  }
}
