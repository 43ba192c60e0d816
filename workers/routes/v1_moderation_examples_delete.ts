import { createRoute } from "@hono/zod-openapi";
import { ExamplesDeleted } from "../../src/api/moderation.ts";
import type { App } from "../context.ts";
import { NO_USAGE } from "../middleware/metering/usage.ts";
import { ROUTE_ERRORS as E, errorsOf } from "../openapi/problems.ts";
import { addRoute, jsonResponse, v1Headers } from "../openapi/route.ts";
import { EXAMPLES_PATH, ownPolicy } from "./v1_moderation_examples_add.ts";
import { PolicyParams } from "./v1_moderation_policies_get.ts";

export const deleteExamplesRoute = createRoute({
  method: "delete",
  path: EXAMPLES_PATH,
  operationId: "deleteModerationExamples",
  tags: ["Moderation"],
  summary: "Delete all labelled examples",
  description: "Deletes the policy's examples (its calibration stays until calibrated again).",
  security: [{ ApiKey: [] }],
  request: { params: PolicyParams },
  responses: { 200: jsonResponse(ExamplesDeleted, "Gone.", { deleted: 2, usage: NO_USAGE }, v1Headers()) },
});

/** `DELETE /v1/moderation/policies/{id}/examples` (see `description`). */
export function registerV1ModerationExamplesDelete(app: App): void {
  addRoute(app, deleteExamplesRoute, errorsOf(E.any, E.apiKey, E.query, ["policy_not_found"]), async (c) => {
    const policy = await ownPolicy(c);
    const deleted = await c.get("services").moderation.store.deleteExamples(policy.account, policy.id);
    return c.json({ deleted, usage: NO_USAGE }, 200);
  });
}
