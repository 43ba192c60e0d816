import { type ClassifyResponse, imageItemError } from "../../src/api/index.ts";
import { dot, softmax, topK } from "../../src/vector/index.ts";
import type { EmbeddedItem } from "./inference.ts";

/**
 * One image against the label embeddings: `similarity` is the raw cosine (both sides are unit vectors), `score` the
 * softmax over all labels at the model's logit scale, the best `k` first.
 *
 * @example rankLabels({ ok: true, embedding }, ["cat", "dog"], 1, [cat, dog], 100) → { labels: [{ label: "cat", score: 0.98, similarity: 0.31 }] }
 */
export function rankLabels(
  item: EmbeddedItem,
  labels: readonly string[],
  k: number,
  embeddings: readonly Float32Array[],
  logitScale: number,
): ClassifyResponse["results"][number] {
  if (!item.ok) return { labels: [], error: { code: imageItemError(item.code), message: item.message } };
  const similarities = embeddings.map((label) => dot(item.embedding, label));
  const scores = softmax(similarities, logitScale);
  return {
    labels: topK(scores, k).map((i) => ({
      label: labels[i] as string,
      score: scores[i] as number,
      similarity: similarities[i] as number,
    })),
  };
}
