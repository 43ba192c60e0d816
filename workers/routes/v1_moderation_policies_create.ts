import { createRoute } from "@hono/zod-openapi";
import {
  CreatePolicyRequest,
  MAX_POLICIES_PER_ACCOUNT,
  MODERATION_LIMITS,
  PolicyResponse,
} from "../../src/api/moderation.ts";
import type { App } from "../context.ts";
import { ApiError } from "../errors.ts";
import { billUsage, reserveUnits, usageOf } from "../middleware/metering/usage.ts";
import { parameterRef } from "../openapi/components.ts";
import { ROUTE_ERRORS as E, errorsOf } from "../openapi/problems.ts";
import { addRoute, jsonResponse, v1Headers } from "../openapi/route.ts";
import { readJsonBody } from "../request/read-body.ts";
import { loadPolicy, policyView } from "../services/moderation/policies.ts";
import { newPolicyId, type PolicyRow } from "../services/moderation/policy-store.ts";
import { POLICY_EXAMPLE } from "./v1_moderation_policies_get.ts";

export const createPolicyRoute = createRoute({
  method: "post",
  path: "/v1/moderation/policies",
  operationId: "createModerationPolicy",
  tags: ["Moderation"],
  summary: "Create a moderation policy",
  description: `A policy's categories each hold concept texts (embedded now, billed as texts); an input's similarity to
a category is its highest cosine to the category's concepts, flagged at the category's \`threshold\` (default
${MODERATION_LIMITS.defaultThreshold}) until the policy is calibrated on labelled examples
(\`POST /v1/moderation/policies/{id}/examples\`, then \`…/calibrate\`). At most ${MODERATION_LIMITS.maxCategories}
categories of ${MODERATION_LIMITS.maxConceptsPerCategory} concepts; ${MAX_POLICIES_PER_ACCOUNT} policies per account.`,
  security: [{ ApiKey: [] }],
  parameters: [parameterRef("IdempotencyKey"), parameterRef("RequestId")],
  request: {
    body: {
      required: true,
      content: {
        "application/json": {
          schema: CreatePolicyRequest,
          example: {
            name: "shop uploads",
            categories: [
              { name: "weapons", concepts: ["a photo of a gun", "a photo of a knife"], threshold: 0.26 },
            ],
          },
        },
      },
    },
  },
  responses: {
    201: jsonResponse(PolicyResponse, "Created.", POLICY_EXAMPLE, v1Headers({ post: true })),
  },
});

/** `POST /v1/moderation/policies` (see `description`). */
export function registerV1ModerationPoliciesCreate(app: App): void {
  const errors = errorsOf(E.any, E.apiKey, E.billed, E.idempotent, E.body, E.gpu, ["storage_limit_reached"]);
  addRoute(app, createPolicyRoute, errors, async (c) => {
    const request = await readJsonBody(c, CreatePolicyRequest, 512 * 1024);
    const services = c.get("services");
    const row: PolicyRow = {
      id: newPolicyId(),
      account: c.get("apiKey").account,
      name: request.name,
      categories: request.categories.map((cat) => ({
        name: cat.name,
        concepts: cat.concepts,
        threshold: cat.threshold ?? MODERATION_LIMITS.defaultThreshold,
      })),
      calibrations: {},
      created: Date.now(),
    };
    await reserveUnits(c, { texts: row.categories.reduce((n, cat) => n + cat.concepts.length, 0) });
    // The concepts first (embedded and stored in R2), then the row: a refused or failed request leaves no policy.
    const loaded = await loadPolicy(c, row, { reserved: true });
    const created = await services.moderation.store
      .create(row, MAX_POLICIES_PER_ACCOUNT)
      .catch(async (error: unknown) => {
        await services.moderation.concepts.deleteAll(row.id);
        throw error;
      });
    if (!created) {
      await services.moderation.concepts.deleteAll(row.id);
      throw new ApiError(
        "storage_limit_reached",
        `this account holds at most ${MAX_POLICIES_PER_ACCOUNT} moderation policies; delete one first`,
      );
    }
    const usage = billUsage(c, usageOf(0, loaded.texts));
    return c.json({ ...policyView(loaded, 0, services.model.id), usage }, 201);
  });
}
