import { createRoute } from "@hono/zod-openapi";
import {
  API_LIMITS,
  EmbeddingsRequest,
  EmbeddingsResponse,
  EXAMPLES,
  type ImageInput,
} from "../../src/api/index.ts";
import { encodeBase64 } from "../../src/encoding/base64.ts";
import type { App } from "../context.ts";
import { ApiError } from "../errors.ts";
import { billUsage, usageOf } from "../middleware/metering/usage.ts";
import { parameterRef } from "../openapi/components.ts";
import { ROUTE_ERRORS as E, errorsOf } from "../openapi/problems.ts";
import { addRoute, jsonResponse, v1Headers } from "../openapi/route.ts";
import { imageSources } from "../request/images-from-request.ts";
import { readJsonBody } from "../request/read-body.ts";
import { modelHeaders, truncationWarnings } from "../responses.ts";
import { imageUrlsOf } from "../services/images/image-urls.ts";
import { resolveImages } from "../services/images/resolve-images.ts";
import type { EmbeddedItem } from "../services/inference.ts";
import { textRequest } from "../services/text-embeddings/text-request.ts";
import { servedOrThrow, succeeded } from "../services/upstream.ts";

export const embeddingsRoute = createRoute({
  method: "post",
  path: "/v1/embeddings",
  operationId: "createEmbeddings",
  tags: ["Vision"],
  summary: "Embed texts and images",
  description: `Unit-length embeddings of texts and images in one space, in the OpenAI response shape (an OpenAI
client pointed at this API works for texts). Compare them by dot product. Texts go through the edge's cache; all
images of the request go to the GPU tier in one batch. Any image that fails fails the request (422), unbilled.`,
  security: [{ ApiKey: [] }],
  parameters: [parameterRef("IdempotencyKey"), parameterRef("RequestId")],
  request: {
    body: {
      required: true,
      content: { "application/json": { schema: EmbeddingsRequest, example: EXAMPLES.embeddingsRequest } },
    },
  },
  responses: {
    200: jsonResponse(
      EmbeddingsResponse,
      "One embedding per input, in input order.",
      EXAMPLES.embeddingsResponse,
      v1Headers({ model: true, post: true }),
    ),
  },
});

/** `POST /v1/embeddings` (see `description`). */
export function registerV1Embeddings(app: App): void {
  const errors = errorsOf(E.any, E.apiKey, E.billed, E.idempotent, E.body, E.images, E.gpu, [
    "model_not_found",
    "image_decode_failed",
  ]);
  addRoute(app, embeddingsRoute, errors, async (c) => {
    const services = c.get("services");
    const request = await readJsonBody(c, EmbeddingsRequest);
    if (request.model !== undefined && request.model !== services.model.id) {
      throw new ApiError(
        "model_not_found",
        `this deployment serves "${services.model.id}", not "${request.model}"`,
      );
    }
    const items = typeof request.input === "string" ? [request.input] : request.input;
    const texts: { index: number; text: string }[] = [];
    const images: { index: number; image: ImageInput }[] = [];
    for (const [index, item] of items.entries()) {
      if (typeof item === "string") texts.push({ index, text: item });
      else if ("text" in item) texts.push({ index, text: item.text });
      else images.push({ index, image: item.image });
    }
    if (images.length > API_LIMITS.maxImages) {
      throw new ApiError("invalid_request", `at most ${API_LIMITS.maxImages} images per request`, {
        errors: [{ pointer: "/input", detail: `${images.length} images` }],
      });
    }
    const imageBytes = servedOrThrow(
      await resolveImages(
        imageSources(
          images.map((i) => i.image),
          (i) => `/input/${images[i]?.index}/image`,
        ),
        imageUrlsOf(c),
        c.get("scope"),
      ),
    );
    const answer = await c.get("scope").all([
      (budget) =>
        services.texts.embedTexts(
          texts.map((t) => t.text),
          textRequest(c, budget),
        ),
      (budget) =>
        imageBytes.length
          ? services.inference.embedImages(imageBytes, budget)
          : Promise.resolve(succeeded<EmbeddedItem[]>([])),
    ]);
    const [embeddedTexts, embeddedImages] = servedOrThrow(answer);
    const failed = embeddedImages.flatMap((item, i) =>
      item.ok
        ? []
        : [{ pointer: `/input/${images[i]?.index}/image`, detail: `${item.code}: ${item.message}` }],
    );
    if (failed.length)
      throw new ApiError(
        "image_decode_failed",
        `${failed.length} image(s) could not be decoded; nothing was billed`,
        { errors: failed },
      );

    const vectors: Float32Array[] = new Array(items.length);
    for (const [k, { index }] of texts.entries())
      vectors[index] = embeddedTexts.embeddings[k] as Float32Array;
    for (const [k, { index }] of images.entries())
      vectors[index] = (embeddedImages[k] as { embedding: Float32Array }).embedding;
    const base64 = request.encoding_format === "base64";
    const warnings = truncationWarnings(embeddedTexts.truncated, (k) => `/input/${texts[k]?.index}`, "text");
    const body: EmbeddingsResponse = {
      object: "list",
      data: vectors.map((vector, index) =>
        base64
          ? {
              object: "embedding" as const,
              index,
              embedding: encodeBase64(new Uint8Array(vector.buffer, vector.byteOffset, vector.byteLength)),
            }
          : { object: "embedding" as const, index, embedding: Array.from(vector) },
      ),
      model: services.model.id,
      preprocessing: services.model.preprocessing.version,
      usage: billUsage(c, usageOf(images.length, embeddedTexts)),
      ...(warnings.length ? { warnings } : {}),
    };
    return c.json(body, 200, modelHeaders(services));
  });
}
