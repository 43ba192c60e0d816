import type { Context } from "hono";
import type { Policy } from "../../../src/api/moderation.ts";
import { DEFAULT_POLICY, DEFAULT_POLICY_ID } from "../../../src/api/moderation-default-policy.ts";

export { DEFAULT_POLICY_ID };

import { plattProbability } from "../../../src/calibration/index.ts";
import { dot } from "../../../src/vector/index.ts";
import { ApiError } from "../../errors.ts";
import { reserveUnits } from "../../middleware/metering/usage.ts";
import type { EmbeddedTexts } from "../text-embeddings/text-embedding-service.ts";
import { textRequest } from "../text-embeddings/text-request.ts";
import { servedOrThrow } from "../upstream.ts";
import type { PolicyCategoryRow, PolicyRow, StoredCalibration } from "./policy-store.ts";

/** A policy ready to score inputs with the served model: its categories, concept embeddings and thresholds. */
export interface LoadedPolicy {
  row: PolicyRow;
  /** Per category, its concepts' embeddings by the served model. */
  concepts: Float32Array[][];
  /** The calibration for the served model, when there is one. */
  calibration: StoredCalibration | null;
  /** Texts embedded (or read from the cache) to load it now: billed with the request that needed them. */
  texts: { computed: number; cached: number };
}

/** The calling account's policy, or the built-in one; 404 for one that is not there (or another account's). */
export async function policyOf(c: Context, id: string): Promise<PolicyRow> {
  if (id === DEFAULT_POLICY_ID)
    return {
      id: DEFAULT_POLICY_ID,
      account: "",
      name: DEFAULT_POLICY.name,
      categories: DEFAULT_POLICY.categories.map((cat) => ({ ...cat, concepts: [...cat.concepts] })),
      calibrations: {},
      created: Date.UTC(2026, 11, 1),
    };
  const row = await c.get("services").moderation.store.get(c.get("apiKey").account, id);
  if (!row) throw new ApiError("policy_not_found", `no moderation policy "${id}" in this account`);
  return row;
}

/**
 * Loads a policy's concept embeddings for the served model: from R2 (behind the isolate's cache) for an account's
 * policy, embedded through the text cache otherwise — the built-in policy, or a policy first used with another
 * model, whose concepts are embedded again for this one and stored.
 */
export async function loadPolicy(
  c: Context,
  row: PolicyRow,
  options: { reserved?: boolean } = {},
): Promise<LoadedPolicy> {
  const services = c.get("services");
  const model = services.model.id;
  const all = row.categories.flatMap((cat) => cat.concepts);
  const stored =
    row.id === DEFAULT_POLICY_ID
      ? undefined
      : await services.moderation.concepts.get(row.id, model, all.length, services.model.embeddingDim);
  let texts = { computed: 0, cached: 0 };
  let flat: Float32Array[];
  if (stored) flat = stored;
  else {
    // An account's concepts embedded again are its texts: held with the meter before the work, as every write.
    if (row.id !== DEFAULT_POLICY_ID && !options.reserved) await reserveUnits(c, { texts: all.length });
    const embedded: EmbeddedTexts = servedOrThrow(await services.texts.embedTexts(all, textRequest(c)));
    flat = embedded.embeddings;
    // The built-in policy's concepts are the service's own, never billed; an account's are its texts.
    if (row.id !== DEFAULT_POLICY_ID) texts = { computed: embedded.computed, cached: embedded.cached };
    if (row.id !== DEFAULT_POLICY_ID) await services.moderation.concepts.put(row.id, model, flat);
  }
  const concepts: Float32Array[][] = [];
  let at = 0;
  for (const cat of row.categories) {
    concepts.push(flat.slice(at, at + cat.concepts.length));
    at += cat.concepts.length;
  }
  const calibration = row.calibrations[model] ?? null;
  return { row, concepts, calibration, texts };
}

/** An input's raw similarity to each category: its highest cosine to the category's concepts. */
export function categorySimilarities(policy: LoadedPolicy, embedding: Float32Array): number[] {
  return policy.concepts.map((rows) => Math.max(...rows.map((row) => dot(embedding, row))));
}

/** Where a category flags with the served model: its calibrated threshold when there is one, else its own. */
export function thresholdOf(policy: LoadedPolicy, category: PolicyCategoryRow): number {
  return policy.calibration?.categories[category.name]?.threshold ?? category.threshold;
}

/** One input's moderation result: flags, calibrated probabilities (or the raw similarities), similarities. */
export function moderationResult(policy: LoadedPolicy, embedding: Float32Array) {
  const similarities = categorySimilarities(policy, embedding);
  const categories: Record<string, boolean> = {};
  const scores: Record<string, number> = {};
  const sims: Record<string, number> = {};
  for (const [i, cat] of policy.row.categories.entries()) {
    const similarity = similarities[i] as number;
    const platt = policy.calibration?.categories[cat.name]?.platt;
    categories[cat.name] = similarity >= thresholdOf(policy, cat);
    scores[cat.name] = platt ? plattProbability(platt, similarity) : similarity;
    sims[cat.name] = similarity;
  }
  return {
    flagged: Object.values(categories).some(Boolean),
    categories,
    category_scores: scores,
    category_similarities: sims,
  };
}

/** A policy as the API shows it, for the served model. */
export function policyView(
  policy: LoadedPolicy | { row: PolicyRow; calibration: StoredCalibration | null },
  examples: number,
  model: string,
): Policy {
  const calibration = policy.calibration;
  return {
    object: "moderation_policy",
    id: policy.row.id,
    name: policy.row.name,
    categories: policy.row.categories.map((cat) => {
      const measured = calibration?.categories[cat.name];
      return {
        name: cat.name,
        concepts: cat.concepts,
        threshold: measured?.threshold ?? cat.threshold,
        ...(measured
          ? {
              calibration: {
                threshold: measured.threshold,
                precision: measured.precision,
                recall: measured.recall,
                f1: measured.f1,
                positives: measured.positives,
                negatives: measured.negatives,
                target_met: measured.target_met,
                rule: measured.rule,
                ...(measured.reason ? { reason: measured.reason } : {}),
              },
            }
          : {}),
      };
    }),
    model,
    calibrated: calibration !== null,
    target_precision: calibration?.target_precision ?? null,
    examples,
    created: new Date(policy.row.created).toISOString(),
  };
}
