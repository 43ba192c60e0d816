import { createRoute } from "@hono/zod-openapi";
import { PolicyDeleted } from "../../src/api/moderation.ts";
import type { App } from "../context.ts";
import { ApiError } from "../errors.ts";
import { NO_USAGE } from "../middleware/metering/usage.ts";
import { ROUTE_ERRORS as E, errorsOf } from "../openapi/problems.ts";
import { addRoute, jsonResponse, v1Headers } from "../openapi/route.ts";
import { validate } from "../request/read-body.ts";
import { DEFAULT_POLICY_ID } from "../services/moderation/policies.ts";
import { PolicyParams } from "./v1_moderation_policies_get.ts";

export const deletePolicyRoute = createRoute({
  method: "delete",
  path: "/v1/moderation/policies/{id}",
  operationId: "deleteModerationPolicy",
  tags: ["Moderation"],
  summary: "Delete a moderation policy",
  description:
    "Deletes the policy, its examples and its concept embeddings. The built-in `default` cannot be deleted.",
  security: [{ ApiKey: [] }],
  request: { params: PolicyParams },
  responses: { 200: jsonResponse(PolicyDeleted, "Gone.", { deleted: 1, usage: NO_USAGE }, v1Headers()) },
});

/** `DELETE /v1/moderation/policies/{id}` (see `description`). */
export function registerV1ModerationPoliciesDelete(app: App): void {
  addRoute(app, deletePolicyRoute, errorsOf(E.any, E.apiKey, E.query, ["policy_not_found"]), async (c) => {
    const { id } = validate(PolicyParams, c.req.param());
    if (id === DEFAULT_POLICY_ID)
      throw new ApiError("invalid_request", "the built-in default policy cannot be deleted", {
        errors: [{ pointer: "/id", detail: "built in" }],
      });
    const { store, concepts } = c.get("services").moderation;
    if (!(await store.delete(c.get("apiKey").account, id)))
      throw new ApiError("policy_not_found", `no moderation policy "${id}" in this account`);
    await concepts.deleteAll(id);
    return c.json({ deleted: 1 as const, usage: NO_USAGE }, 200);
  });
}
