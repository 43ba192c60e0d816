import * as z from "zod";
import { UpsertItemError } from "./collections.ts";
import { ImageInput } from "./requests.ts";
import { Usage } from "./responses.ts";

/**
 * Ranking candidates against one query with CLIP: a prompt against generated images (CLIPScore, re-ranking), a photo
 * against captions or thumbnails, text against text, image against image. Request and response shapes (zod).
 */

export const RANK_LIMITS = {
  maxCandidates: 64,
  /** Images in one request, the query's included. */
  maxImages: 16,
  maxTextChars: 20_000,
  maxIdChars: 128,
} as const;
const L = RANK_LIMITS;

const text = z.string().min(1).max(L.maxTextChars);
const id = z
  .string()
  .min(1)
  .max(L.maxIdChars)
  .optional()
  .meta({ description: "Yours; returned with its result." });

export const RankQuery = z
  .strictObject({ text: text.optional(), image: ImageInput.optional() })
  .refine((q) => (q.text === undefined) !== (q.image === undefined), "give exactly one of text or image")
  .meta({ id: "RankQuery", description: "**Exactly one of** `text` or `image`." });

export const RankCandidate = z
  .strictObject({ id, text: text.optional(), image: ImageInput.optional() })
  .refine((c) => (c.text === undefined) !== (c.image === undefined), "give exactly one of text or image")
  .meta({ id: "RankCandidate", description: "**Exactly one of** `text` or `image`, and your `id`." });

export const RankRequest = z
  .strictObject({
    query: RankQuery,
    candidates: z.array(RankCandidate).min(1).max(L.maxCandidates),
    top_k: z
      .int()
      .min(1)
      .max(L.maxCandidates)
      .optional()
      .meta({ description: "Results to return; default all." }),
  })
  .refine(
    (r) => Number(r.query.image !== undefined) + r.candidates.filter((c) => c.image).length <= L.maxImages,
    { message: `at most ${L.maxImages} images per request, the query's included`, path: ["candidates"] },
  )
  .meta({ id: "RankRequest" });
export type RankRequest = z.infer<typeof RankRequest>;

export const RankResult = z
  .object({
    index: z.int().min(0).meta({ description: "The candidate's position in the request." }),
    id: z.string().optional(),
    similarity: z.number().meta({ description: "Cosine similarity to the query." }),
    clip_score: z.number().meta({ description: "CLIPScore: max(100 · cosine, 0)." }),
    probability: z.number().meta({
      description: "Softmax over the ranked candidates at the model's logit scale (they sum to 1).",
    }),
  })
  .meta({ id: "RankResult" });

export const RankFailure = z
  .object({ index: z.int().min(0), id: z.string().optional(), error: UpsertItemError })
  .meta({ id: "RankFailure", description: "A candidate that failed alone (not ranked, not billed)." });

export const RankResponse = z
  .object({
    model: z.string(),
    results: z.array(RankResult).meta({ description: "Best first, cut at `top_k`." }),
    failed: z.array(RankFailure).optional(),
    usage: Usage,
  })
  .meta({ id: "RankResponse" });
export type RankResponse = z.infer<typeof RankResponse>;
