import { createRoute } from "@hono/zod-openapi";
import type { Context } from "hono";
import {
  MODERATION_LIMITS,
  ModerationRequest,
  ModerationResponse,
  type ModerationResult,
} from "../../src/api/moderation.ts";
import type { App } from "../context.ts";
import { ApiError, allImagesFailed } from "../errors.ts";
import { billUsage, reserveUnits, usageOf } from "../middleware/metering/usage.ts";
import { parameterRef } from "../openapi/components.ts";
import { ROUTE_ERRORS as E, errorsOf } from "../openapi/problems.ts";
import { addRoute, jsonResponse, v1Headers } from "../openapi/route.ts";
import { readJsonBody } from "../request/read-body.ts";
import { embedSources, type VectorSource } from "../services/collections/item-vectors.ts";
import { collectionOf, storesOf } from "../services/collections/request-stores.ts";
import {
  DEFAULT_POLICY_ID,
  loadPolicy,
  moderationResult,
  policyOf,
} from "../services/moderation/policies.ts";

export const moderationsRoute = createRoute({
  method: "post",
  path: "/v1/moderations",
  operationId: "createModeration",
  tags: ["Moderation"],
  summary: "Moderate texts and images",
  description: `OpenAI's moderation shape, with CLIP: each input's raw similarity to each category of the policy (the
highest cosine to its concepts), \`flagged\` where it reaches the category's threshold, and \`category_scores\` —
calibrated probabilities when the policy is calibrated for the served model (\`calibrated: true\`), else the raw
similarities. Up to ${MODERATION_LIMITS.maxInputs} inputs (${MODERATION_LIMITS.maxImages} images), or
\`{collection, ids}\` to score items already stored there without embedding them again. Without \`policy\`, the
built-in \`default\` one (uncalibrated). A bad input fails alone; billed as the images and texts embedded.`,
  security: [{ ApiKey: [] }],
  parameters: [parameterRef("IdempotencyKey"), parameterRef("RequestId")],
  request: {
    body: {
      required: true,
      content: {
        "application/json": {
          schema: ModerationRequest,
          example: { input: ["a photo of a cat"], policy: "default" },
        },
      },
    },
  },
  responses: {
    200: jsonResponse(
      ModerationResponse,
      "One result per input, in request order.",
      {
        id: "modr-6f1c0e9a2b4d8c7e5f3a1b2c",
        model: "clip-edge/tiny-clip",
        policy: "default",
        calibrated: false,
        results: [
          {
            flagged: false,
            categories: { weapons: false },
            category_scores: { weapons: 0.12 },
            category_similarities: { weapons: 0.12 },
          },
        ],
        usage: { images: 0, texts_computed: 1, texts_cached: 0 },
      },
      v1Headers({ post: true }),
    ),
  },
});

/** The request's inputs as vectors to find: texts and images to embed, or a collection's stored vectors. */
async function sourcesOf(
  c: Context,
  request: ModerationRequest,
): Promise<{ sources: (VectorSource | string)[]; ids?: string[] }> {
  if (request.collection !== undefined) {
    const ids = request.ids as string[];
    const items = storesOf(c).items(await collectionOf(c, request.collection));
    const vectors = await Promise.all(ids.map((id) => items.vectorOf(id)));
    return {
      ids,
      sources: vectors.map((v, i) =>
        v ? { kind: "vector" as const, vector: v } : `no item "${ids[i]}" in the collection`,
      ),
    };
  }
  // The request's refinement makes `input` present when `collection` is not.
  const given = request.input as NonNullable<ModerationRequest["input"]>;
  const inputs = Array.isArray(given) ? given : [given];
  const sources = inputs.map((input, i): VectorSource => {
    if (typeof input === "string") return { kind: "text", text: input };
    if ("text" in input) return { kind: "text", text: input.text };
    const pointer = Array.isArray(given) ? `/input/${i}/image` : "/input/image";
    return { kind: "image", image: input.image, pointer };
  });
  const images = sources.filter((s) => s.kind === "image").length;
  if (images > MODERATION_LIMITS.maxImages)
    throw new ApiError("invalid_request", `at most ${MODERATION_LIMITS.maxImages} images per request`, {
      errors: [{ pointer: "/input", detail: `${images} images` }],
    });
  return { sources };
}

/** `POST /v1/moderations` (see `description`). */
export function registerV1Moderations(app: App): void {
  const errors = errorsOf(E.any, E.apiKey, E.billed, E.idempotent, E.body, E.gpu, E.database, [
    "policy_not_found",
    "all_inputs_failed",
    "image_too_large",
    "collection_not_found",
    "model_mismatch",
  ]);
  addRoute(app, moderationsRoute, errors, async (c) => {
    const request = await readJsonBody(c, ModerationRequest);
    const policyId = request.policy ?? DEFAULT_POLICY_ID;
    const row = await policyOf(c, policyId);
    const { sources, ids } = await sourcesOf(c, request);
    const toEmbed = sources.filter((s): s is VectorSource => typeof s !== "string");
    await reserveUnits(c, {
      images: toEmbed.filter((s) => s.kind === "image").length,
      texts: toEmbed.filter((s) => s.kind === "text").length,
    });
    const policy = await loadPolicy(c, row);
    const embedded = await embedSources(c, toEmbed);
    let k = 0;
    const results: ModerationResult[] = sources.map((source, i) => {
      const id = ids ? { id: ids[i] as string } : {};
      const empty = { flagged: false, categories: {}, category_scores: {}, category_similarities: {}, ...id };
      if (typeof source === "string") return { ...empty, error: { code: "item_not_found", message: source } };
      const vector = embedded.vectors[k++];
      if (!(vector instanceof Float32Array))
        return { ...empty, error: vector as { code: string; message: string } };
      return { ...moderationResult(policy, vector), ...id };
    });
    const failures = results.filter((r) => r.error);
    if (failures.length === results.length)
      throw allImagesFailed(failures.map((r) => r.error as { code: string; message: string }));
    const texts = {
      computed: embedded.texts.computed + policy.texts.computed,
      cached: embedded.texts.cached + policy.texts.cached,
    };
    const model = c.get("services").model.id;
    const body = {
      id: `modr-${crypto.randomUUID().replaceAll("-", "")}`,
      model,
      policy: row.id,
      calibrated: policy.calibration !== null,
      results,
      usage: billUsage(c, usageOf(embedded.images, texts)),
    };
    return c.json(body, 200);
  });
}
