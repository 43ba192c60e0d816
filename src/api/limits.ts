import { MAX_CAPTION_TOP_K } from "../protocol/gpu-replies.ts";

/**
 * The public API's limits, in one place: the edge enforces them, the docs and SDKs quote them. Images beyond these
 * sizes should be downscaled on the phone first: CLIP sees 224 × 224 pixels, so 1024 px on the long side loses nothing.
 */
export const API_LIMITS = {
  /** Request body, checked from Content-Length and while reading, before any parsing. */
  maxBodyBytes: 24 * 1024 * 1024,
  /** Images per /v1/classify or /v1/captions request. */
  maxImages: 16,
  /** Inputs (texts + images) per /v1/embeddings request; images among them count against maxImages too. */
  maxEmbeddingInputs: 64,
  /** One image's bytes after base64 decoding or download. */
  maxImageBytes: 10 * 1024 * 1024,
  /** All images of one request together. */
  maxTotalImageBytes: 20 * 1024 * 1024,
  maxLabels: 1000,
  /** Characters per label; a label longer than the model's context (77 tokens) is truncated and reported. */
  maxLabelChars: 1000,
  maxTemplates: 32,
  maxTemplateChars: 1000,
  /** Characters per text input of /v1/embeddings; beyond 77 tokens it is truncated and reported. */
  maxTextChars: 20_000,
  maxTopK: 1000,
  maxCaptionTopK: MAX_CAPTION_TOP_K,
  /** Image URLs: https only, at most this many redirects, bytes and seconds. */
  maxRedirects: 3,
  urlTimeoutMs: 10_000,
} as const;

/**
 * The project's default prompt templates for zero-shot labels, ensembled as in the CLIP paper. Chosen to cover the
 * ways a label is usually photographed; callers can pass their own.
 */
export const DEFAULT_TEMPLATES: readonly string[] = [
  "a photo of a {}.",
  "a photo of the {}.",
  "a picture of a {}.",
  "a close-up photo of a {}.",
  "a photo of a small {}.",
  "a photo of a large {}.",
  "an image showing a {}.",
];
