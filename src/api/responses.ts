import * as z from "zod";
import type { ItemErrorStatus } from "../protocol/codes.ts";

/**
 * The public API's response bodies (zod). Routes are typed from them, so an answer that does not match does not
 * compile, and the contract test checks live answers against the OpenAPI document generated from them.
 */

export const Usage = z
  .object({
    images: z.int().min(0).meta({ description: "Images embedded (billed)." }),
    texts_computed: z
      .int()
      .min(0)
      .meta({ description: "Texts (labels × templates, inputs) the model encoded." }),
    texts_cached: z
      .int()
      .min(0)
      .meta({ description: "Texts served from the edge's cache, billed at a lower price." }),
  })
  .meta({ id: "Usage", description: "The units this request was billed for." });
export type Usage = z.infer<typeof Usage>;

/**
 * Why one image failed alone: the GPU tier's image statuses, a URL it could not fetch, or the fallback failing (its
 * text statuses, text_too_long and invalid_tokens, never reach an image).
 */
export const ITEM_ERROR_CODES = [
  "invalid_image",
  "unsupported_format",
  "image_too_large",
  "internal_error",
  "invalid_image_url",
  "upstream_error",
] as const satisfies readonly (ItemErrorStatus | "invalid_image_url" | "upstream_error")[];
export type ItemErrorCode = (typeof ITEM_ERROR_CODES)[number];

/** The public code of an image's failure; a text status on an image would be the GPU tier's bug. */
export function imageItemError(code: ItemErrorStatus | ItemErrorCode): ItemErrorCode {
  return (ITEM_ERROR_CODES as readonly string[]).includes(code) ? (code as ItemErrorCode) : "internal_error";
}

export const ItemError = z
  .object({
    code: z.enum(ITEM_ERROR_CODES),
    message: z.string(),
  })
  .meta({
    id: "ItemError",
    description:
      "Why one image of the request failed while others were served (that image is not billed). `invalid_image_url`: its URL could not be fetched; `upstream_error`: the hosted fallback failed for it.",
  });
export type ItemError = z.infer<typeof ItemError>;

export const Warning = z
  .object({
    code: z.enum(["label_truncated", "text_truncated"]),
    message: z.string(),
    pointer: z.string().meta({ description: 'JSON pointer to the input concerned, e.g. "/labels/3".' }),
  })
  .meta({
    id: "Warning",
    description:
      "Something the request asked for that was served differently, e.g. a label cut to the context length.",
  });
export type Warning = z.infer<typeof Warning>;

const modelId = z.string().meta({ description: "The served model (also in `X-Clip-Model`)." });
const preprocessing = z
  .string()
  .meta({ description: "The image preprocessing's version (also in `X-Clip-Preprocessing`)." });

export const LabelScore = z
  .object({
    label: z.string(),
    score: z.number().meta({ description: "Softmax over the labels at the model's logit scale; sums to 1." }),
    similarity: z.number().nullable().meta({
      description:
        "Cosine similarity; null when the hosted fallback served the request (it gives scores only).",
    }),
  })
  .meta({ id: "LabelScore" });

export const ClassifyResult = z
  .object({
    labels: z
      .array(LabelScore)
      .meta({ description: "Best first, cut at `top_k`; empty when the image failed." }),
    error: ItemError.optional(),
  })
  .meta({ id: "ClassifyResult", description: "One image's labels, in request order." });

export const ClassifyResponse = z
  .object({
    model: modelId,
    preprocessing,
    provider: z
      .enum(["gpu", "huggingface"])
      .meta({ description: "Who computed it: our GPU tier or the fallback." }),
    results: z.array(ClassifyResult),
    usage: Usage,
    warnings: z.array(Warning).optional(),
  })
  .meta({ id: "ClassifyResponse" });
export type ClassifyResponse = z.infer<typeof ClassifyResponse>;

export const FloatEmbedding = z
  .object({
    object: z.literal("embedding"),
    index: z.int().min(0),
    embedding: z.array(z.number()).meta({ description: "Unit length." }),
  })
  .meta({
    id: "FloatEmbedding",
    description: "An embedding as floats (`encoding_format` `float`, the default).",
  });

export const Base64Embedding = z
  .object({
    object: z.literal("embedding"),
    index: z.int().min(0),
    embedding: z.string().meta({ description: "Unit length, as little-endian float32 bytes in base64." }),
  })
  .meta({ id: "Base64Embedding", description: "An embedding as base64 (`encoding_format` `base64`)." });

export const EmbeddingsResponse = z
  .object({
    object: z.literal("list"),
    data: z
      .array(z.union([FloatEmbedding, Base64Embedding]))
      .meta({ description: "One per input, in input order, all in the requested encoding." }),
    model: modelId,
    preprocessing,
    usage: Usage,
    warnings: z.array(Warning).optional(),
  })
  .meta({ id: "EmbeddingsResponse" });
export type EmbeddingsResponse = z.infer<typeof EmbeddingsResponse>;

export const Caption = z
  .object({ text: z.string(), score: z.number().meta({ description: "Cosine similarity to the image." }) })
  .meta({ id: "Caption" });

export const CaptionsResult = z
  .object({ captions: z.array(Caption).meta({ description: "Best first." }), error: ItemError.optional() })
  .meta({ id: "CaptionsResult", description: "One image's captions, in request order." });

export const CaptionsResponse = z
  .object({ model: modelId, preprocessing, results: z.array(CaptionsResult), usage: Usage })
  .meta({ id: "CaptionsResponse" });
export type CaptionsResponse = z.infer<typeof CaptionsResponse>;

export const ModelInfo = z
  .object({
    id: z.string(),
    object: z.literal("model"),
    embedding_dim: z.int(),
    context_length: z.int(),
    image_size: z.int(),
    logit_scale: z.number(),
    preprocessing: z.object({
      version: z.string(),
      settings: z
        .record(z.string(), z.unknown())
        .meta({ description: "Resize, crop and normalisation settings." }),
    }),
    vocabulary: z.object({ size: z.int(), hash: z.string() }),
    caption_bank: z
      .object({ size: z.int() })
      .nullable()
      .meta({ description: "The caption bank /v1/captions searches; null when there is none." }),
    recommended_upload: z
      .object({
        min_short_side: z.int().min(1).meta({
          description:
            "Downsize photos so their short side is no smaller than this (twice the model's input size): smaller uploads, embeddings within the published cosine of the original's.",
        }),
        format: z.literal("jpeg"),
      })
      .meta({
        description:
          "How a client should downsize a photo before upload (the SDK's `downsizeImage` follows it); docs/benchmarks.md has the measured cosine and bytes saved.",
      }),
  })
  .meta({ id: "ModelInfo", description: "Enough about the served model to reproduce any result exactly." });
export type ModelInfo = z.infer<typeof ModelInfo>;

export const ModelList = z
  .object({ object: z.literal("list"), data: z.array(ModelInfo) })
  .meta({ id: "ModelList" });

export const Health = z
  .object({
    status: z.literal("ok"),
    model: z.string(),
    preprocessing: z.string(),
    event_loop_lag_ms: z.int().min(0).meta({ description: "This isolate's running average event-loop lag." }),
    gpu_backends: z.array(
      z.object({
        backend: z.int().min(0),
        circuit: z.enum(["closed", "open", "half-open"]),
        outstanding: z.int().min(0),
      }),
    ),
  })
  .meta({ id: "Health", description: "The edge is up; each GPU backend's circuit, without calling them." });
