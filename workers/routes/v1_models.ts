import { createRoute } from "@hono/zod-openapi";
import { EXAMPLES, type ModelInfo, ModelList, recommendedUpload } from "../../src/api/index.ts";
import type { App } from "../context.ts";
import { ROUTE_ERRORS as E, errorsOf } from "../openapi/problems.ts";
import { addRoute, jsonResponse, v1Headers } from "../openapi/route.ts";
import type { Services } from "../services/index.ts";

/** What /v1/models reports about the served model: enough to reproduce any result exactly. */
export function modelInfo(services: Pick<Services, "model">): ModelInfo {
  const { model } = services;
  return {
    id: model.id,
    object: "model",
    embedding_dim: model.embeddingDim,
    context_length: model.contextLength,
    image_size: model.imageSize,
    logit_scale: model.logitScale,
    preprocessing: { version: model.preprocessing.version, settings: model.preprocessing.settings },
    vocabulary: { size: model.vocabulary.size, hash: model.vocabulary.hash },
    caption_bank: model.captionBankSize === null ? null : { size: model.captionBankSize },
    recommended_upload: recommendedUpload(model.imageSize),
  };
}

export const modelsRoute = createRoute({
  method: "get",
  path: "/v1/models",
  operationId: "listModels",
  tags: ["Account"],
  summary: "The served model",
  description: `The model this deployment serves, in a list as OpenAI-style clients expect: its embedding size, context
length, logit scale, exact preprocessing settings, vocabulary hash and caption bank — enough to reproduce any result — and the size to downsize
photos to before upload (recommended_upload).`,
  security: [{ ApiKey: [] }],
  responses: {
    200: jsonResponse(
      ModelList,
      "The served model.",
      { object: "list", data: [EXAMPLES.model] },
      v1Headers(),
    ),
  },
});

/** `GET /v1/models` (see `description`). */
export function registerV1Models(app: App): void {
  addRoute(app, modelsRoute, errorsOf(E.any, E.apiKey), (c) =>
    c.json({ object: "list" as const, data: [modelInfo(c.get("services"))] }, 200),
  );
}
