import { createRoute, z } from "@hono/zod-openapi";
import { PolicyId, PolicyResponse } from "../../src/api/moderation.ts";
import type { App } from "../context.ts";
import { NO_USAGE } from "../middleware/metering/usage.ts";
import { ROUTE_ERRORS as E, errorsOf } from "../openapi/problems.ts";
import { addRoute, jsonResponse, v1Headers } from "../openapi/route.ts";
import { validate } from "../request/read-body.ts";
import { DEFAULT_POLICY_ID, policyOf, policyView } from "../services/moderation/policies.ts";

export const PolicyParams = z.object({ id: PolicyId.meta({ param: { name: "id", in: "path" } }) });

export const POLICY_EXAMPLE = {
  object: "moderation_policy" as const,
  id: "mp_6f1c0e9a2b4d8c7e5f3a1b2c",
  name: "shop uploads",
  categories: [{ name: "weapons", concepts: ["a photo of a gun", "a photo of a knife"], threshold: 0.26 }],
  model: "clip-edge/tiny-clip",
  calibrated: false,
  target_precision: null,
  examples: 0,
  created: "2026-12-01T09:00:00.000Z",
  usage: { images: 0, texts_computed: 2, texts_cached: 0 },
};

export const getPolicyRoute = createRoute({
  method: "get",
  path: "/v1/moderation/policies/{id}",
  operationId: "getModerationPolicy",
  tags: ["Moderation"],
  summary: "One moderation policy",
  description: `A policy of the calling key's account (or \`default\`, the built-in one): its categories and concepts,
the thresholds in use for the served model, and what calibration measured.`,
  security: [{ ApiKey: [] }],
  request: { params: PolicyParams },
  responses: {
    200: jsonResponse(PolicyResponse, "The policy.", { ...POLICY_EXAMPLE, usage: NO_USAGE }, v1Headers()),
  },
});

/** `GET /v1/moderation/policies/{id}` (see `description`). */
export function registerV1ModerationPoliciesGet(app: App): void {
  addRoute(app, getPolicyRoute, errorsOf(E.any, E.apiKey, E.query, ["policy_not_found"]), async (c) => {
    const { id } = validate(PolicyParams, c.req.param());
    const row = await policyOf(c, id);
    const model = c.get("services").model.id;
    const examples =
      id === DEFAULT_POLICY_ID
        ? 0
        : await c.get("services").moderation.store.exampleCount(row.account, row.id);
    const calibration = row.calibrations[model] ?? null;
    return c.json({ ...policyView({ row, calibration }, examples, model), usage: NO_USAGE }, 200);
  });
}
