import { createRoute } from "@hono/zod-openapi";
import { LabelSetDeleted } from "../../src/api/label-sets.ts";
import type { App } from "../context.ts";
import { NO_USAGE } from "../middleware/metering/usage.ts";
import { ROUTE_ERRORS as E, errorsOf } from "../openapi/problems.ts";
import { addRoute, jsonResponse, v1Headers } from "../openapi/route.ts";
import { validate } from "../request/read-body.ts";
import { LabelSetParams, labelSetOf } from "./v1_label_sets_get.ts";

export const deleteLabelSetRoute = createRoute({
  method: "delete",
  path: "/v1/label-sets/{id}",
  operationId: "deleteLabelSet",
  tags: ["Label sets"],
  summary: "Delete a label set",
  description: `Deletes the set and its embeddings; classify with it is a 404 at once. A set still building is deleted
too: its build stops and bills nothing (unless it was finishing at that moment). Deleting it again is a 404.`,
  security: [{ ApiKey: [] }],
  request: { params: LabelSetParams },
  responses: {
    200: jsonResponse(LabelSetDeleted, "Gone.", { deleted: 1, usage: NO_USAGE }, v1Headers()),
  },
});

/** `DELETE /v1/label-sets/{id}` (see `description`). */
export function registerV1LabelSetsDelete(app: App): void {
  addRoute(
    app,
    deleteLabelSetRoute,
    errorsOf(E.any, E.apiKey, E.query, ["label_set_not_found"]),
    async (c) => {
      const { id } = validate(LabelSetParams, c.req.param());
      const set = await labelSetOf(c, id);
      const { store, matrices } = c.get("services").labelSets;
      // The row first: from then on nothing reads the matrix, and a delete that fails halfway leaves no usable set.
      if (await store.delete(set.account, set.id)) await matrices.delete(set.id, set.model);
      return c.json({ deleted: 1 as const, usage: NO_USAGE }, 200);
    },
  );
}
