import { createRoute } from "@hono/zod-openapi";
import type { Context } from "hono";
import { AddExamplesRequest, ExamplesAdded, MODERATION_LIMITS } from "../../src/api/moderation.ts";
import type { App } from "../context.ts";
import { ApiError } from "../errors.ts";
import { billUsage, reserveUnits, usageOf } from "../middleware/metering/usage.ts";
import { parameterRef } from "../openapi/components.ts";
import { ROUTE_ERRORS as E, errorsOf } from "../openapi/problems.ts";
import { addRoute, jsonResponse, v1Headers } from "../openapi/route.ts";
import { readJsonBody, validate } from "../request/read-body.ts";
import { embedSources, type VectorSource } from "../services/collections/item-vectors.ts";
import { DEFAULT_POLICY_ID, policyOf } from "../services/moderation/policies.ts";
import type { PolicyRow, StoredExample } from "../services/moderation/policy-store.ts";
import { PolicyParams } from "./v1_moderation_policies_get.ts";

export const EXAMPLES_PATH = "/v1/moderation/policies/{id}/examples";

/** The calling account's own policy named in the path (the built-in one takes no examples). */
export async function ownPolicy(c: Context): Promise<PolicyRow> {
  const { id } = validate(PolicyParams, c.req.param());
  if (id === DEFAULT_POLICY_ID)
    throw new ApiError(
      "invalid_request",
      "the built-in default policy takes no examples; create a policy of your own",
      {
        errors: [{ pointer: "/id", detail: "built in" }],
      },
    );
  return policyOf(c, id);
}

export const addExamplesRoute = createRoute({
  method: "post",
  path: EXAMPLES_PATH,
  operationId: "addModerationExamples",
  tags: ["Moderation"],
  summary: "Add labelled examples",
  description: `Labelled examples to calibrate the policy on: each a text or an image, with the categories it truly
belongs to (none: clean). Up to ${MODERATION_LIMITS.maxInputs} per request (${MODERATION_LIMITS.maxImages} images),
as many requests as needed, up to ${MODERATION_LIMITS.maxExamples} stored per policy. Each is embedded by the served
model (billed as images and texts) and stored with its categories; a bad image fails alone.`,
  security: [{ ApiKey: [] }],
  parameters: [parameterRef("IdempotencyKey"), parameterRef("RequestId")],
  request: {
    params: PolicyParams,
    body: {
      required: true,
      content: {
        "application/json": {
          schema: AddExamplesRequest,
          example: {
            examples: [
              { text: "a photo of a rifle", categories: ["weapons"] },
              { text: "a kitchen", categories: [] },
            ],
          },
        },
      },
    },
  },
  responses: {
    200: jsonResponse(
      ExamplesAdded,
      "One result per example.",
      {
        object: "examples_added",
        added: 2,
        total: 2,
        results: [
          { index: 0, status: "added" },
          { index: 1, status: "added" },
        ],
        usage: { images: 0, texts_computed: 2, texts_cached: 0 },
      },
      v1Headers({ post: true }),
    ),
  },
});

/** `POST /v1/moderation/policies/{id}/examples` (see `description`). */
export function registerV1ModerationExamplesAdd(app: App): void {
  const addErrors = errorsOf(E.any, E.apiKey, E.billed, E.idempotent, E.body, E.gpu, [
    "policy_not_found",
    "storage_limit_reached",
    "image_too_large",
  ]);
  addRoute(app, addExamplesRoute, addErrors, async (c) => {
    // The body first, as every route here: a bad request is a 400 whatever the policy.
    const { examples } = await readJsonBody(c, AddExamplesRequest);
    const policy = await ownPolicy(c);
    const known = new Set(policy.categories.map((cat) => cat.name));
    const problems = examples.flatMap((e, i) =>
      e.categories.flatMap((name, j) =>
        known.has(name)
          ? []
          : [{ pointer: `/examples/${i}/categories/${j}`, detail: `no category "${name}"` }],
      ),
    );
    if (problems.length > 0)
      throw new ApiError(
        "invalid_request",
        `examples name categories the policy does not have: ${problems[0]?.detail}`,
        {
          errors: problems,
        },
      );
    const images = examples.filter((e) => e.image).length;
    if (images > MODERATION_LIMITS.maxImages)
      throw new ApiError("invalid_request", `at most ${MODERATION_LIMITS.maxImages} images per request`, {
        errors: [{ pointer: "/examples", detail: `${images} images` }],
      });
    await reserveUnits(c, { images, texts: examples.length - images });
    const sources: VectorSource[] = examples.map((e, i) =>
      e.image
        ? { kind: "image", image: e.image, pointer: `/examples/${i}/image` }
        : { kind: "text", text: e.text as string },
    );
    const embedded = await embedSources(c, sources);
    const stored: StoredExample[] = [];
    const results = embedded.vectors.map((vector, index) => {
      if (!(vector instanceof Float32Array)) return { index, error: vector };
      stored.push({ categories: [...new Set(examples[index]?.categories)], embedding: vector });
      return { index, status: "added" as const };
    });
    const { store } = c.get("services").moderation;
    const model = c.get("services").model.id;
    if (
      stored.length > 0 &&
      !(await store.addExamples(policy.account, policy.id, model, stored, MODERATION_LIMITS.maxExamples))
    )
      throw new ApiError(
        "storage_limit_reached",
        `a policy holds at most ${MODERATION_LIMITS.maxExamples} examples; nothing was added`,
      );
    const total = await store.exampleCount(policy.account, policy.id);
    const usage = billUsage(c, usageOf(embedded.images, embedded.texts));
    return c.json({ object: "examples_added" as const, added: stored.length, total, results, usage }, 200);
  });
}
