import * as z from "zod";
import { DEFAULT_CAPTION_TOP_K } from "../protocol/gpu-replies.ts";
import { API_LIMITS as L } from "./limits.ts";

/**
 * The public API's request bodies (zod): the edge validates with them and the OpenAPI document is generated from them
 * (`.meta({ id })` makes a schema a named component, which is what mobile client generators need). Requests are
 * strict: an unknown field is an error, not silently ignored.
 */

export const ImageInput = z
  .strictObject({
    base64: z
      .string()
      .min(1)
      .optional()
      .meta({ description: "The image file's bytes in base64 (a `data:` URL prefix is accepted)." }),
    url: z.string().min(1).optional().meta({
      description: "A public https URL of the image; the edge fetches it (at most 3 redirects, 10 s).",
    }),
  })
  .refine((image) => (image.base64 === undefined) !== (image.url === undefined), {
    message: "give exactly one of base64 or url",
  })
  .meta({
    id: "ImageInput",
    description:
      "One image: **exactly one of** `base64` or `url`. JPEG, PNG, WebP, AVIF, TIFF or a still GIF, at most 10 MiB.",
    example: { url: "https://example.com/photo.jpg" },
  });
export type ImageInput = z.infer<typeof ImageInput>;

const images = z
  .array(ImageInput)
  .min(1, "send at least one image")
  .max(L.maxImages, `at most ${L.maxImages} images per request`);
const template = z
  .string()
  .max(L.maxTemplateChars)
  .refine((t) => t.includes("{}"), 'a template must contain "{}" where the label goes')
  .refine(
    (t) => !t.includes("\u0000") && !t.includes("\u0001"),
    "a template has no U+0000 or U+0001 characters",
  );

/** 1–`max` labels, each trimmed and non-empty. */
export const labelList = (max: number) =>
  z
    .array(
      z
        .string()
        .trim()
        .min(1, "labels must not be empty")
        .max(L.maxLabelChars, `a label has at most ${L.maxLabelChars} characters`)
        // The text cache's keys use these two as separators.
        .refine(
          (t) => !t.includes("\u0000") && !t.includes("\u0001"),
          "a label has no U+0000 or U+0001 characters",
        ),
    )
    .min(1, "send at least one label")
    .max(max, `at most ${max} labels`);
export const templateList = z.array(template).min(1).max(L.maxTemplates).optional().meta({
  description: 'Prompt templates, each with "{}" where the label goes; default: the project\'s seven.',
});
const labelSetRef = z
  .string()
  .regex(/^ls_[0-9a-f]{24}$/, "a label set id looks like ls_ and 24 hex digits")
  .optional()
  .meta({
    description: "A saved label set's id, instead of `labels` and `templates` (`POST /v1/label-sets`).",
  });
const topK = (max: number, what: string) => z.int().min(1).max(max).optional().meta({ description: what });

const classifyFields = {
  labels: labelList(L.maxLabels).optional(),
  templates: templateList,
  label_set: labelSetRef,
  top_k: topK(L.maxTopK, "Labels per image in the answer, best first; default: all."),
};
/** The labels of a classify request: inline, or a saved set's. */
function oneLabelSource<T extends { labels?: unknown; templates?: unknown; label_set?: unknown }>(
  schema: z.ZodType<T>,
) {
  return schema
    .refine((r) => (r.labels === undefined) !== (r.label_set === undefined), {
      message: "give exactly one of labels or label_set",
      path: ["labels"],
    })
    .refine((r) => r.label_set === undefined || r.templates === undefined, {
      message: "a label set brings its own templates",
      path: ["templates"],
    });
}

export const ClassifyRequest = oneLabelSource(z.strictObject({ images, ...classifyFields })).meta({
  id: "ClassifyRequest",
  description: "**Exactly one of** `labels` (with optional `templates`) or `label_set`.",
});
/** The fields of a multipart classify request other than its files, checked as JSON would be. */
export const ClassifyFields = oneLabelSource(z.strictObject(classifyFields));
export type ClassifyRequest = z.infer<typeof ClassifyRequest>;

/** A file part of a multipart body, for the document only (the edge reads multipart itself). */
const filePart = z.string().meta({ format: "binary", description: "An image file." });
const imageParts = z
  .array(filePart)
  .min(1)
  .max(L.maxImages)
  .meta({
    description: `1–${L.maxImages} image files, as repeated \`image\` parts.`,
  });

/** `/v1/classify` as multipart/form-data: `labels` and `templates` as repeated fields or one JSON array each. */
export const ClassifyMultipart = z
  .strictObject({
    image: imageParts,
    labels: z.array(z.string()).min(1).max(L.maxLabels).optional(),
    templates: z.array(z.string()).max(L.maxTemplates).optional(),
    label_set: z.string().optional().meta({ description: "A saved label set's id, instead of `labels`." }),
    top_k: z.int().min(1).max(L.maxTopK).optional(),
  })
  .meta({ id: "ClassifyMultipart", description: "**Exactly one of** `labels` or `label_set`." });

export const TextEmbeddingInput = z.strictObject({ text: z.string().max(L.maxTextChars) }).meta({
  id: "TextEmbeddingInput",
  description: "A text to embed (cut to the model's 77 tokens, reported).",
});
export const ImageEmbeddingInput = z
  .strictObject({ image: ImageInput })
  .meta({ id: "ImageEmbeddingInput", description: "An image to embed." });

export const EmbeddingInputItem = z
  .union([z.string().max(L.maxTextChars), TextEmbeddingInput, ImageEmbeddingInput])
  .meta({
    id: "EmbeddingInputItem",
    description: "A text (as a string, OpenAI's shape, or an object) or an image.",
  });

export const EmbeddingsRequest = z
  .strictObject({
    // OpenAI's shape, which its clients send: a string or a list. The one union with a primitive in this API.
    input: z
      .union([
        z.string().max(L.maxTextChars),
        z
          .array(EmbeddingInputItem)
          .min(1, "send at least one input")
          .max(L.maxEmbeddingInputs, `at most ${L.maxEmbeddingInputs} inputs`),
      ])
      .meta({
        description: `One text, or a list of 1–${L.maxEmbeddingInputs} texts and images (at most ${L.maxImages} images).`,
      }),
    encoding_format: z.enum(["float", "base64"]).optional().meta({
      description: "`base64`: each embedding as little-endian float32 bytes in base64. Default `float`.",
    }),
    model: z.string().optional().meta({
      description: "Accepted for OpenAI-client compatibility; must name the served model when present.",
    }),
  })
  .meta({ id: "EmbeddingsRequest" });
export type EmbeddingsRequest = z.infer<typeof EmbeddingsRequest>;

export const CaptionsRequest = z
  .strictObject({
    images,
    top_k: topK(L.maxCaptionTopK, `Captions per image, best first; default ${DEFAULT_CAPTION_TOP_K}.`),
  })
  .meta({ id: "CaptionsRequest" });
export type CaptionsRequest = z.infer<typeof CaptionsRequest>;

export const CaptionsMultipart = z
  .strictObject({ image: imageParts, top_k: z.int().min(1).max(L.maxCaptionTopK).optional() })
  .meta({ id: "CaptionsMultipart" });
