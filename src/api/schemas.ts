import * as z from "zod";
import { API_LIMITS as L } from "./limits.ts";

/**
 * The public API's request and response shapes (zod, so the edge validates with them and docs/SDKs are generated
 * from them). Requests are strict: an unknown field is an error, not silently ignored.
 */

export const ImageInput = z.union([
  z.strictObject({
    base64: z.string().min(1).describe("The image file's bytes in base64 (a data: URL prefix is accepted)"),
  }),
  z.strictObject({ url: z.string().min(1).describe("An https URL of the image; fetched by the edge") }),
]);
export type ImageInput = z.infer<typeof ImageInput>;

const images = z
  .array(ImageInput)
  .min(1, "send at least one image")
  .max(L.maxImages, `at most ${L.maxImages} images per request`);
const template = z
  .string()
  .max(L.maxTemplateChars)
  .refine((t) => t.includes("{}"), 'a template must contain "{}" where the label goes');

export const ClassifyRequest = z.strictObject({
  images,
  labels: z
    .array(
      z
        .string()
        .trim()
        .min(1, "labels must not be empty")
        .max(L.maxLabelChars, `a label has at most ${L.maxLabelChars} characters`),
    )
    .min(1, "send at least one label")
    .max(L.maxLabels, `at most ${L.maxLabels} labels`),
  templates: z.array(template).min(1).max(L.maxTemplates).optional(),
  top_k: z.int().min(1).max(L.maxTopK).optional(),
});
export type ClassifyRequest = z.infer<typeof ClassifyRequest>;

const EmbeddingItem = z.union([
  z.string().max(L.maxTextChars),
  z.strictObject({ text: z.string().max(L.maxTextChars) }),
  z.strictObject({ image: ImageInput }),
]);

export const EmbeddingsRequest = z.strictObject({
  input: z.union([
    z.string().max(L.maxTextChars),
    z
      .array(EmbeddingItem)
      .min(1, "send at least one input")
      .max(L.maxEmbeddingInputs, `at most ${L.maxEmbeddingInputs} inputs`),
  ]),
  encoding_format: z.enum(["float", "base64"]).optional(),
  /** Accepted for OpenAI-client compatibility; must name the served model when present. */
  model: z.string().optional(),
});
export type EmbeddingsRequest = z.infer<typeof EmbeddingsRequest>;

export const CaptionsRequest = z.strictObject({
  images,
  top_k: z.int().min(1).max(L.maxCaptionTopK).optional(),
});
export type CaptionsRequest = z.infer<typeof CaptionsRequest>;

/** Units of one request, as billed. */
export interface Usage {
  images: number;
  texts_computed: number;
  texts_cached: number;
}

export interface ItemError {
  code: string;
  message: string;
}

/** Something the request asked for that was served differently, e.g. a label cut to the context length. */
export interface Warning {
  code: "label_truncated" | "text_truncated" | "template_truncated";
  message: string;
  /** JSON pointer to the input concerned, e.g. "/labels/3". */
  pointer: string;
}

export interface ClassifyResponse {
  model: string;
  preprocessing: string;
  provider: "gpu" | "huggingface";
  /** `similarity` is the raw cosine; null when the hosted fallback served the request (it gives scores only). */
  results: { labels: { label: string; score: number; similarity: number | null }[]; error?: ItemError }[];
  usage: Usage;
  warnings?: Warning[];
}

export interface EmbeddingsResponse {
  object: "list";
  data: { object: "embedding"; index: number; embedding: number[] | string }[];
  model: string;
  preprocessing: string;
  usage: Usage;
  warnings?: Warning[];
}

export interface CaptionsResponse {
  model: string;
  preprocessing: string;
  results: { captions: { text: string; score: number }[]; error?: ItemError }[];
  usage: Usage;
}

export interface ModelInfo {
  id: string;
  object: "model";
  embedding_dim: number;
  context_length: number;
  image_size: number;
  logit_scale: number;
  preprocessing: { version: string; settings: Record<string, unknown> };
  vocabulary: { size: number; hash: string };
  caption_bank: { size: number } | null;
}
