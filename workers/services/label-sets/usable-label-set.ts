import type { Context } from "hono";
import { ApiError } from "../../errors.ts";
import type { EmbeddedTexts } from "../text-embeddings/text-embedding-service.ts";
import type { LabelSetRow } from "./label-set-store.ts";
import { statusOf } from "./views.ts";

/**
 * The calling account's label set, ready for this deployment's model, with its embeddings in the shape inline
 * labels come in (no text computed or read from the cache: the counts are 0); else the request's clear refusal —
 * 404 for a set that is not there (or another account's), 409 for another model's or one not built.
 */
export async function usableLabelSet(
  c: Context,
  id: string,
): Promise<{ set: LabelSetRow; embedded: EmbeddedTexts }> {
  const { store, matrices } = c.get("services").labelSets;
  const model = c.get("services").model;
  const set = await store.get(c.get("apiKey").account, id);
  if (!set) throw new ApiError("label_set_not_found", `no label set "${id}" in this account`);
  if (set.model !== model.id || set.dim !== model.embeddingDim)
    throw new ApiError(
      "model_mismatch",
      `label set "${id}" was made with ${set.model} (${set.dim}-d); this deployment serves ${model.id}; create it again`,
    );
  const { status, error } = statusOf(set);
  if (status !== "ready")
    throw new ApiError(
      "label_set_not_ready",
      status === "building"
        ? `label set "${id}" is still being built; poll GET /v1/label-sets/${id}`
        : `label set "${id}" failed to build: ${error}`,
      status === "building" ? { retryAfterSeconds: 5 } : {},
    );
  const rows = await matrices.get(set.id, set.model, set.labelCount, set.dim);
  if (!rows)
    throw new ApiError("internal_error", `label set "${id}" has lost its embeddings; create it again`);
  const cut = new Set(set.truncated);
  return {
    set,
    embedded: { embeddings: rows, truncated: set.labels.map((_, i) => cut.has(i)), computed: 0, cached: 0 },
  };
}
