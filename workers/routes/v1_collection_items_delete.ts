import { createRoute } from "@hono/zod-openapi";
import { Deleted, DeleteItemsRequest, NO_COLLECTION_UNITS } from "../../src/api/collections.ts";
import type { App } from "../context.ts";
import { billUsage } from "../middleware/metering/usage.ts";
import { parameterRef } from "../openapi/components.ts";
import { ROUTE_ERRORS as E, errorsOf } from "../openapi/problems.ts";
import { addRoute, jsonResponse, v1Headers } from "../openapi/route.ts";
import { readJsonBody, validate } from "../request/read-body.ts";
import { collectionOf, storesOf, whileLive } from "../services/collections/request-stores.ts";
import { NameParams } from "./v1_collections_put.ts";

export const deleteItemsRoute = createRoute({
  method: "post",
  path: "/v1/collections/{name}/items/delete",
  operationId: "deleteItems",
  tags: ["Collections"],
  summary: "Delete items by id",
  description:
    "Deletes up to 1,000 items by id in one transaction; ids that are not there are skipped and not counted.",
  security: [{ ApiKey: [] }],
  parameters: [parameterRef("IdempotencyKey"), parameterRef("RequestId")],
  request: {
    params: NameParams,
    body: {
      required: true,
      content: { "application/json": { schema: DeleteItemsRequest, example: { ids: ["a", "b"] } } },
    },
  },
  responses: {
    200: jsonResponse(
      Deleted,
      "How many were deleted.",
      { deleted: 2, usage: NO_COLLECTION_UNITS },
      v1Headers({ post: true }),
    ),
  },
});

/** `POST /v1/collections/{name}/items/delete` (see `description`). */
export function registerV1CollectionItemsDelete(app: App): void {
  const errors = errorsOf(E.any, E.apiKey, E.database, E.idempotent, E.body, [
    "collection_not_found",
    "model_mismatch",
  ]);
  addRoute(app, deleteItemsRoute, errors, async (c) => {
    const { name } = validate(NameParams, c.req.param());
    const { ids } = await readJsonBody(c, DeleteItemsRequest, 256 * 1024);
    const items = storesOf(c).items(await collectionOf(c, name));
    const deleted = await whileLive(name, () => items.delete(ids));
    // Recorded as a request (no units), so the metering middleware keeps the answer for an Idempotency-Key retry.
    return c.json({ deleted, usage: billUsage(c, NO_COLLECTION_UNITS) }, 200);
  });
}
