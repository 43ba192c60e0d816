import { encodeImages, type ImageSource, isBinaryImage, toBlob, toImageInput } from "./images.ts";
import { type CallOptions, type RequestSpec, send, type TransportOptions } from "./transport.ts";
import type { Answer, JsonBody, OperationId, Query, WithImages } from "./types.ts";

export interface ClipEdgeOptions extends Omit<TransportOptions, "baseUrl"> {
  /** Default "http://127.0.0.1:8787", the local stack. */
  baseUrl?: string;
}

/** One image or several: the shape the playground's snippets use (`image`) and the document's (`images`). */
type WithImageOrImages<B> = Omit<WithImages<B>, "images"> &
  ({ image: ImageSource } | { images: ImageSource[] });

type Body<K extends OperationId> = WithImages<JsonBody<K>>;
const p = encodeURIComponent;

/**
 * The clip-edge API, one method per OpenAPI operation (named by its operationId). Every call retries transient
 * failures with backoff, gives each POST an Idempotency-Key kept across its retries, and ends with a typed answer
 * or a ClipEdgeError.
 *
 * @example
 * const clip = new ClipEdge({ apiKey, baseUrl: "http://127.0.0.1:8787" });
 * const { results } = await clip.classify({ image: file, labels: ["red circle", "blue star"] });
 */
export class ClipEdge {
  readonly #options: TransportOptions;

  constructor(options: ClipEdgeOptions) {
    if (!options.apiKey) throw new TypeError("ClipEdge needs an apiKey");
    this.#options = { ...options, baseUrl: options.baseUrl ?? "http://127.0.0.1:8787" };
  }

  #get<T>(path: string, query?: object, call?: CallOptions): Promise<T> {
    return send(this.#options, { method: "GET", path, query: query as RequestSpec["query"] }, call);
  }

  #delete<T>(path: string, call?: CallOptions): Promise<T> {
    return send(this.#options, { method: "DELETE", path }, call);
  }

  // The answer's type comes from each public method's signature, which names its operation.
  async #json<T>(
    method: "POST" | "PUT",
    path: string,
    body: unknown,
    call?: CallOptions,
    query?: object,
  ): Promise<T> {
    // Encoded once: every retry sends the same bytes, as its Idempotency-Key promises the server.
    const encoded = body === undefined ? undefined : await encodeImages(body);
    const spec: RequestSpec = { method, path, query: query as RequestSpec["query"] };
    if (encoded !== undefined) spec.body = () => encoded;
    return send(this.#options, spec, call);
  }

  /**
   * Sends classify/captions as multipart when every image is bytes (no base64: a third fewer bytes), else as JSON.
   * A FormData is rebuilt for each attempt from the same parts.
   */
  async #imagesCall<T>(
    path: string,
    request: { image?: ImageSource; images?: ImageSource[] } & Record<string, unknown>,
    call?: CallOptions,
  ): Promise<T> {
    const { image, images: many, ...rest } = request;
    const images = many ?? (image === undefined ? [] : [image]);
    if (images.length > 0 && images.every(isBinaryImage)) {
      const blobs = images.map(toBlob);
      const form = () => {
        const data = new FormData();
        blobs.forEach((blob, i) => {
          data.append("image", blob, `image-${i}.${extensionOf(blob.type)}`);
        });
        for (const [name, value] of Object.entries(rest)) {
          for (const item of Array.isArray(value) ? value : [value]) {
            if (item !== undefined) data.append(name, String(item));
          }
        }
        return data;
      };
      return send(this.#options, { method: "POST", path, body: form }, call);
    }
    const body = { ...rest, images: await Promise.all(images.map(toImageInput)) };
    return send(this.#options, { method: "POST", path, body: () => body }, call);
  }

  // Models and account

  health(call?: CallOptions): Promise<Answer<"health">> {
    return this.#get("/healthz", undefined, call);
  }
  listModels(call?: CallOptions): Promise<Answer<"listModels">> {
    return this.#get("/v1/models", undefined, call);
  }
  getUsage(query: Query<"getUsage"> = {}, call?: CallOptions): Promise<Answer<"getUsage">> {
    return this.#get("/v1/usage", query, call);
  }

  // Inference

  classify(
    request: WithImageOrImages<JsonBody<"classify">>,
    call?: CallOptions,
  ): Promise<Answer<"classify">> {
    return this.#imagesCall("/v1/classify", request, call);
  }
  caption(request: WithImageOrImages<JsonBody<"caption">>, call?: CallOptions): Promise<Answer<"caption">> {
    return this.#imagesCall("/v1/captions", request, call);
  }
  createEmbeddings(
    request: Body<"createEmbeddings">,
    call?: CallOptions,
  ): Promise<Answer<"createEmbeddings">> {
    return this.#json("POST", "/v1/embeddings", request, call);
  }
  rank(request: Body<"rank">, call?: CallOptions): Promise<Answer<"rank">> {
    return this.#json("POST", "/v1/rank", request, call);
  }
  /** The JSON form of /v1/explain (its `format=png` heatmap is for browsers pointing an <img> at the API). */
  explain(request: Body<"explain">, call?: CallOptions): Promise<Answer<"explain">> {
    return this.#json("POST", "/v1/explain", request, call, { format: "json" });
  }
  createModeration(
    request: Body<"createModeration">,
    call?: CallOptions,
  ): Promise<Answer<"createModeration">> {
    return this.#json("POST", "/v1/moderations", request, call);
  }

  // Collections

  putCollection(
    name: string,
    request: Body<"putCollection"> = {},
    call?: CallOptions,
  ): Promise<Answer<"putCollection">> {
    return this.#json("PUT", `/v1/collections/${p(name)}`, request, call);
  }
  getCollection(name: string, call?: CallOptions): Promise<Answer<"getCollection">> {
    return this.#get(`/v1/collections/${p(name)}`, undefined, call);
  }
  deleteCollection(name: string, call?: CallOptions): Promise<Answer<"deleteCollection">> {
    return this.#delete(`/v1/collections/${p(name)}`, call);
  }
  listCollections(
    query: Query<"listCollections"> = {},
    call?: CallOptions,
  ): Promise<Answer<"listCollections">> {
    return this.#get("/v1/collections", query, call);
  }
  upsertItems(
    name: string,
    request: Body<"upsertItems">,
    call?: CallOptions,
  ): Promise<Answer<"upsertItems">> {
    return this.#json("POST", `/v1/collections/${p(name)}/items`, request, call);
  }
  listItems(name: string, query: Query<"listItems"> = {}, call?: CallOptions): Promise<Answer<"listItems">> {
    return this.#get(`/v1/collections/${p(name)}/items`, query, call);
  }
  deleteItems(
    name: string,
    request: Body<"deleteItems">,
    call?: CallOptions,
  ): Promise<Answer<"deleteItems">> {
    return this.#json("POST", `/v1/collections/${p(name)}/items/delete`, request, call);
  }
  getItem(
    name: string,
    id: string,
    query: Query<"getItem"> = {},
    call?: CallOptions,
  ): Promise<Answer<"getItem">> {
    return this.#get(`/v1/collections/${p(name)}/items/${p(id)}`, query, call);
  }
  deleteItem(name: string, id: string, call?: CallOptions): Promise<Answer<"deleteItem">> {
    return this.#delete(`/v1/collections/${p(name)}/items/${p(id)}`, call);
  }
  queryCollection(
    name: string,
    request: Body<"queryCollection">,
    call?: CallOptions,
  ): Promise<Answer<"queryCollection">> {
    return this.#json("POST", `/v1/collections/${p(name)}/query`, request, call);
  }

  // Label sets

  createLabelSet(request: Body<"createLabelSet">, call?: CallOptions): Promise<Answer<"createLabelSet">> {
    return this.#json("POST", "/v1/label-sets", request, call);
  }
  listLabelSets(query: Query<"listLabelSets"> = {}, call?: CallOptions): Promise<Answer<"listLabelSets">> {
    return this.#get("/v1/label-sets", query, call);
  }
  getLabelSet(id: string, call?: CallOptions): Promise<Answer<"getLabelSet">> {
    return this.#get(`/v1/label-sets/${p(id)}`, undefined, call);
  }
  deleteLabelSet(id: string, call?: CallOptions): Promise<Answer<"deleteLabelSet">> {
    return this.#delete(`/v1/label-sets/${p(id)}`, call);
  }

  // Moderation policies

  createModerationPolicy(
    request: Body<"createModerationPolicy">,
    call?: CallOptions,
  ): Promise<Answer<"createModerationPolicy">> {
    return this.#json("POST", "/v1/moderation/policies", request, call);
  }
  listModerationPolicies(
    query: Query<"listModerationPolicies"> = {},
    call?: CallOptions,
  ): Promise<Answer<"listModerationPolicies">> {
    return this.#get("/v1/moderation/policies", query, call);
  }
  getModerationPolicy(id: string, call?: CallOptions): Promise<Answer<"getModerationPolicy">> {
    return this.#get(`/v1/moderation/policies/${p(id)}`, undefined, call);
  }
  deleteModerationPolicy(id: string, call?: CallOptions): Promise<Answer<"deleteModerationPolicy">> {
    return this.#delete(`/v1/moderation/policies/${p(id)}`, call);
  }
  addModerationExamples(
    id: string,
    request: Body<"addModerationExamples">,
    call?: CallOptions,
  ): Promise<Answer<"addModerationExamples">> {
    return this.#json("POST", `/v1/moderation/policies/${p(id)}/examples`, request, call);
  }
  countModerationExamples(id: string, call?: CallOptions): Promise<Answer<"countModerationExamples">> {
    return this.#get(`/v1/moderation/policies/${p(id)}/examples`, undefined, call);
  }
  deleteModerationExamples(id: string, call?: CallOptions): Promise<Answer<"deleteModerationExamples">> {
    return this.#delete(`/v1/moderation/policies/${p(id)}/examples`, call);
  }
  calibrateModerationPolicy(
    id: string,
    request: Body<"calibrateModerationPolicy"> = {},
    call?: CallOptions,
  ): Promise<Answer<"calibrateModerationPolicy">> {
    return this.#json("POST", `/v1/moderation/policies/${p(id)}/calibrate`, request, call);
  }
}

function extensionOf(type: string): string {
  return type === "image/png" ? "png" : type === "image/webp" ? "webp" : "jpg";
}
