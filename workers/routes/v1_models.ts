import type { ModelInfo } from "../../src/api/index.ts";
import type { App } from "../context.ts";
import type { Services } from "../services/index.ts";

/** What /v1/models reports about the served model: enough to reproduce any result exactly. */
export function modelInfo(services: Services): ModelInfo {
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
  };
}

/** `GET /v1/models` — the served model, in a list as OpenAI-style clients expect. */
export function registerV1Models(app: App): void {
  app.get("/v1/models", (c) => c.json({ object: "list", data: [modelInfo(c.get("services"))] }));
}
