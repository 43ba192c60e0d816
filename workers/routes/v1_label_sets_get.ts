import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { LabelSetId, LabelSetResponse } from "../../src/api/label-sets.ts";
import type { App } from "../context.ts";
import { ApiError } from "../errors.ts";
import { NO_USAGE } from "../middleware/metering/usage.ts";
import { ROUTE_ERRORS as E, errorsOf } from "../openapi/problems.ts";
import { addRoute, jsonResponse, v1Headers } from "../openapi/route.ts";
import { validate } from "../request/read-body.ts";
import type { LabelSetRow } from "../services/label-sets/label-set-store.ts";
import { LABEL_SET_EXAMPLE, labelSetView } from "../services/label-sets/views.ts";

export const LabelSetParams = z.object({ id: LabelSetId.meta({ param: { name: "id", in: "path" } }) });

export const getLabelSetRoute = createRoute({
  method: "get",
  path: "/v1/label-sets/{id}",
  operationId: "getLabelSet",
  tags: ["Label sets"],
  summary: "One label set",
  description: "A label set of the calling key's account, with its labels and templates and its status.",
  security: [{ ApiKey: [] }],
  request: { params: LabelSetParams },
  responses: {
    200: jsonResponse(
      LabelSetResponse,
      "The label set.",
      { ...LABEL_SET_EXAMPLE, usage: NO_USAGE },
      v1Headers(),
    ),
  },
});

/** The calling key's account's label set of that id, or a 404 (another account's sets are never visible). */
export async function labelSetOf(c: Context, id: string): Promise<LabelSetRow> {
  const row = await c.get("services").labelSets.store.get(c.get("apiKey").account, id);
  if (!row) throw new ApiError("label_set_not_found", `no label set "${id}" in this account`);
  return row;
}

/** `GET /v1/label-sets/{id}` (see `description`). */
export function registerV1LabelSetsGet(app: App): void {
  addRoute(app, getLabelSetRoute, errorsOf(E.any, E.apiKey, E.query, ["label_set_not_found"]), async (c) => {
    const { id } = validate(LabelSetParams, c.req.param());
    // A read: nothing billed, nothing recorded.
    return c.json({ ...labelSetView(await labelSetOf(c, id)), usage: NO_USAGE }, 200);
  });
}
