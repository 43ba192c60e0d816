import type { ItemErrorCode } from "../../src/api/index.ts";
import {
  EXPLAIN_GEOMETRY_HEADER,
  type HeatmapRequest,
  MAX_OCCLUSION_ITEMS,
  type OcclusionGeometry,
  parseOcclusionGeometry,
} from "../../src/protocol/explain.ts";
import type { ItemErrorStatus } from "../../src/protocol/index.ts";
import {
  type BatchResponse,
  CONTENT_TYPE,
  decodeResponse,
  type EmbeddingDtype,
  embeddingToFloat32,
  encodeRequest,
  type GpuCaptionResult,
  parseGpuCaptionsReply,
  parseGpuProblem,
  type ResponseItem,
} from "../../src/protocol/index.ts";
import { float32ToFloat16 } from "../../src/vector/index.ts";
import type { GpuAnswer, GpuClient } from "./gpu-client/gpu-client.ts";
import type { FetchedImage } from "./images/image-urls.ts";
import { type CallBudget, failed, type Outcome, succeeded } from "./upstream.ts";

/** The GPU tier's limit of texts per frame, and how many such frames one call keeps in flight. */
const TEXTS_PER_FRAME = 1024;
const FRAMES_IN_FLIGHT = 2;

/** Per item: an embedding (float32, unit length) or the GPU tier's error code for that item. */
export type EmbeddedItem =
  | { ok: true; embedding: Float32Array }
  | { ok: false; code: ItemErrorStatus | ItemErrorCode; message: string };

/** Per image from the GPU tier's caption search: the nearest captions, or the image's error code. */
export type CaptionItem = GpuCaptionResult;

export interface ServedModel {
  id: string;
  preprocessingVersion: string;
}

/**
 * Computes text embeddings from token-id rows, or fails as a whole: one embedding per row, unit length before rounding,
 * as float16 bit patterns — the wire's precision, which is also the cache's, so the edge widens them once and never
 * rounds them again.
 */
export interface TextEmbeddingProvider {
  embedTexts(rows: readonly Uint32Array[], budget: CallBudget): Promise<Outcome<Uint16Array[]>>;
}

/** The GPU tier's embedding routes over the wire protocol, checking every answer comes from the model we serve. */
export class Inference implements TextEmbeddingProvider {
  private readonly client: GpuClient;
  private readonly model: ServedModel;

  constructor(client: GpuClient, model: ServedModel) {
    this.client = client;
    this.model = model;
  }

  /** All images of a request in one signed call. */
  embedImages(images: readonly Uint8Array[], budget: CallBudget): Promise<Outcome<EmbeddedItem[]>> {
    return this.call("/v1/embed/images", { kind: "images", dtype: "f32", images }, budget);
  }

  /** Token-id rows; float16 on the wire, which is also what the cache stores, so fresh and cached answers agree. */
  async embedTexts(rows: readonly Uint32Array[], budget: CallBudget): Promise<Outcome<Uint16Array[]>> {
    // A frame carries at most TEXTS_PER_FRAME texts; 1,000 labels × 32 templates need several, sent a few at a
    // time so the GPU tier's text queue is not flooded by one request.
    const items: ResponseItem[] = [];
    for (let start = 0; start < rows.length; start += TEXTS_PER_FRAME * FRAMES_IN_FLIGHT) {
      const wave: (readonly Uint32Array[])[] = [];
      for (
        let at = start;
        at < Math.min(rows.length, start + TEXTS_PER_FRAME * FRAMES_IN_FLIGHT);
        at += TEXTS_PER_FRAME
      )
        wave.push(rows.slice(at, at + TEXTS_PER_FRAME));
      const answers = await Promise.all(
        wave.map((texts) =>
          this.decoded("/v1/embed/texts", { kind: "texts", dtype: "f16" as EmbeddingDtype, texts }, budget),
        ),
      );
      for (const answer of answers) {
        if (!answer.ok) return answer;
        for (const item of answer.value) items.push(item);
      }
    }
    const embeddings: Uint16Array[] = [];
    for (const item of items) {
      if (item.status !== "ok")
        return failed("upstream_error", `a text failed on the GPU tier: ${item.status} ${item.message}`);
      // Views into the answer's bytes; a backend that answered float32 all the same is rounded here, once.
      embeddings.push(
        item.embedding instanceof Uint16Array ? item.embedding : float32ToFloat16(item.embedding),
      );
    }
    return succeeded(embeddings);
  }

  /** All images of a request in one signed call; the GPU tier embeds them and searches its caption bank. */
  async captions(
    images: readonly Uint8Array[],
    topK: number,
    budget: CallBudget,
  ): Promise<Outcome<CaptionItem[]>> {
    const sent = await this.send(
      `/v1/captions?top_k=${topK}`,
      { kind: "images", dtype: "f16", images },
      budget,
    );
    if (!sent.ok) return sent;
    const reply = parseGpuCaptionsReply(sent.value.body);
    if (!reply.ok) return failed("upstream_error", reply.message);
    const body = reply.value;
    const mismatch = this.checkModel({ modelId: body.model, preprocessingVersion: body.preprocessing });
    if (mismatch) return failed("upstream_error", mismatch, 60);
    return succeeded(body.results);
  }

  /**
   * Occlusion sensitivity's embeddings (`POST /v1/explain/occlusion`): the image unoccluded first, then with each cell
   * of a grid × grid grid hidden, row-major; and the geometry of the crop the model saw. An image the GPU tier cannot
   * read is that image's failure (a value), as for embeddings.
   */
  async explainOcclusion(
    image: Uint8Array,
    grid: number,
    budget: CallBudget,
  ): Promise<Outcome<{ items: EmbeddedItem[]; geometry: OcclusionGeometry | undefined }>> {
    const sent = await this.send(
      `/v1/explain/occlusion?grid=${grid}`,
      { kind: "images", dtype: "f32", images: [image] },
      budget,
    );
    if (!sent.ok) return sent;
    const decoded = decodeResponse(sent.value.body, { maxItems: MAX_OCCLUSION_ITEMS });
    if (!decoded.ok)
      return failed("upstream_error", `the GPU tier's answer is malformed: ${decoded.message}`);
    const mismatch = this.checkModel(decoded.value);
    if (mismatch) return failed("upstream_error", mismatch, 60);
    const items = decoded.value.items.map(
      (item): EmbeddedItem =>
        item.status === "ok"
          ? { ok: true, embedding: embeddingToFloat32(item.embedding) }
          : { ok: false, code: item.status, message: item.message },
    );
    const geometry = parseOcclusionGeometry(sent.value.headers?.get(EXPLAIN_GEOMETRY_HEADER));
    if (items[0]?.ok && (!geometry || items.length !== grid * grid + 1))
      return failed(
        "upstream_error",
        "the GPU tier's occlusion answer has no geometry or the wrong number of cells",
      );
    return succeeded({ items, geometry });
  }

  /** The explanation as a picture (`POST /v1/explain/heatmap`): the crop with the scores' heatmap over it, a PNG. */
  async explainHeatmap(request: HeatmapRequest, budget: CallBudget): Promise<Outcome<Uint8Array>> {
    const body = new TextEncoder().encode(JSON.stringify(request));
    const sent = await this.client.post("/v1/explain/heatmap", body, "application/json", budget);
    if (!sent.ok) return sent;
    if (sent.value.status !== 200 || !sent.value.contentType.startsWith("image/png"))
      return failed("upstream_error", `the GPU tier refused the heatmap (${sent.value.status})`);
    return succeeded(sent.value.body);
  }

  /**
   * Downloads an image URL on the GPU tier, which vets every address the host resolves to and connects only to a
   * vetted one. The URL's own faults (refused, unreachable, too large) are a value; the tier's are a failure.
   */
  async fetchImage(
    url: string,
    limits: { maxBytes: number; maxRedirects: number; timeoutMs: number; denyHosts: readonly string[] },
    budget: CallBudget,
  ): Promise<Outcome<FetchedImage>> {
    const body = new TextEncoder().encode(
      JSON.stringify({
        url,
        max_bytes: limits.maxBytes,
        max_redirects: limits.maxRedirects,
        timeout_ms: Math.round(limits.timeoutMs),
        deny_hosts: limits.denyHosts,
      }),
    );
    const sent = await this.client.post("/v1/fetch-image", body, "application/json", budget);
    if (!sent.ok) return sent;
    const { status, body: answer } = sent.value;
    if (status === 200) return succeeded({ ok: true, bytes: answer });
    const problem = parseGpuProblem(answer, sent.value.contentType);
    if (problem?.code === "image_too_large")
      return succeeded({ ok: false, code: "image_too_large", message: problem.detail });
    if (problem?.code === "url_not_allowed" || problem?.code === "url_fetch_failed")
      return succeeded({ ok: false, code: "invalid_image_url", message: problem.detail });
    return failed(
      "upstream_error",
      `the GPU tier refused the image download (${status}): ${problem?.detail ?? ""}`,
    );
  }

  private async call(
    path: string,
    request: Parameters<typeof encodeRequest>[0],
    budget: CallBudget,
  ): Promise<Outcome<EmbeddedItem[]>> {
    const decoded = await this.decoded(path, request, budget);
    if (!decoded.ok) return decoded;
    return succeeded(
      decoded.value.map((item) =>
        item.status === "ok"
          ? { ok: true, embedding: embeddingToFloat32(item.embedding) }
          : { ok: false, code: item.status, message: item.message },
      ),
    );
  }

  /** The answer's items as the wire has them (float16 bits or float32), checked to come from our model. */
  private async decoded(
    path: string,
    request: Parameters<typeof encodeRequest>[0],
    budget: CallBudget,
  ): Promise<Outcome<ResponseItem[]>> {
    const sent = await this.send(path, request, budget);
    if (!sent.ok) return sent;
    const decoded = decodeResponse(sent.value.body, { maxItems: TEXTS_PER_FRAME });
    if (!decoded.ok)
      return failed("upstream_error", `the GPU tier's answer is malformed: ${decoded.message}`);
    const mismatch = this.checkModel(decoded.value);
    if (mismatch) return failed("upstream_error", mismatch, 60);
    return succeeded(decoded.value.items);
  }

  /** Encodes, signs and posts a frame; any answer but a 2xx becomes a failure with the GPU tier's detail. */
  private async send(
    path: string,
    request: Parameters<typeof encodeRequest>[0],
    budget: CallBudget,
  ): Promise<Outcome<GpuAnswer>> {
    const frame = encodeRequest(request, { maxItems: TEXTS_PER_FRAME });
    if (!frame.ok) throw new Error(`encoding a GPU request failed: ${frame.message}`);
    const sent = await this.client.post(path, frame.value, CONTENT_TYPE, budget);
    if (!sent.ok) return sent;
    const { status, body } = sent.value;
    if (status >= 200 && status < 300) return sent;
    const problem = parseGpuProblem(body, sent.value.contentType);
    if (problem?.code === "no_caption_bank")
      return failed("no_caption_bank", "this deployment's GPU tier has no caption bank", 60);
    const detail = problem?.detail ?? new TextDecoder().decode(body.subarray(0, 300));
    return failed("upstream_error", `the GPU tier refused the batch (${status}): ${detail}`);
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
