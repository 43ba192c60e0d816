import { createRoute } from "@hono/zod-openapi";
import { Deleted, NO_COLLECTION_UNITS } from "../../src/api/collections.ts";
import type { App } from "../context.ts";
import { ApiError } from "../errors.ts";
import { ROUTE_ERRORS as E, errorsOf } from "../openapi/problems.ts";
import { addRoute, jsonResponse, v1Headers } from "../openapi/route.ts";
import { validate } from "../request/read-body.ts";
import { collectionOf, storesOf, whileLive } from "../services/collections/request-stores.ts";
import { ItemParams } from "./v1_collection_item_get.ts";

export const deleteItemRoute = createRoute({
  method: "delete",
  path: "/v1/collections/{name}/items/{id}",
  operationId: "deleteItem",
  tags: ["Collections"],
  summary: "Delete an item",
  description:
    "Deletes one item at once; a search right after no longer finds it. Deleting it again is a 404.",
  security: [{ ApiKey: [] }],
  request: { params: ItemParams },
  responses: { 200: jsonResponse(Deleted, "Gone.", { deleted: 1, usage: NO_COLLECTION_UNITS }, v1Headers()) },
});

/** `DELETE /v1/collections/{name}/items/{id}` (see `description`). */
export function registerV1CollectionItemDelete(app: App): void {
  const errors = errorsOf(E.any, E.apiKey, E.database, E.query, [
    "collection_not_found",
    "item_not_found",
    "model_mismatch",
  ]);
  addRoute(app, deleteItemRoute, errors, async (c) => {
    const { name, id } = validate(ItemParams, c.req.param());
    const items = storesOf(c).items(await collectionOf(c, name));
    const deleted = await whileLive(name, () => items.delete([id]));
    if (deleted === 0) throw new ApiError("item_not_found", `no item "${id}" in collection "${name}"`);
    return c.json({ deleted, usage: NO_COLLECTION_UNITS }, 200); // not recorded, as for PUT
  });
}
