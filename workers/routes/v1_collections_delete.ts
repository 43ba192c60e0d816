import { createRoute } from "@hono/zod-openapi";
import { Deleted, NO_COLLECTION_UNITS } from "../../src/api/collections.ts";
import type { App } from "../context.ts";
import { ApiError } from "../errors.ts";
import { ROUTE_ERRORS as E, errorsOf } from "../openapi/problems.ts";
import { addRoute, jsonResponse, v1Headers } from "../openapi/route.ts";
import { validate } from "../request/read-body.ts";
import { purgeDeletedCollections } from "../services/collections/purge.ts";
import { storesOf } from "../services/collections/request-stores.ts";
import { NameParams } from "./v1_collections_put.ts";

export const deleteCollectionRoute = createRoute({
  method: "delete",
  path: "/v1/collections/{name}",
  operationId: "deleteCollection",
  tags: ["Collections"],
  summary: "Delete a collection",
  description: `Removes the collection from view at once (its name is free again, and its share of the plan's limits
is released); its items are purged in bounded batches in the background, so deleting a million items never times
out. Idempotent: deleting it again is a 404.`,
  security: [{ ApiKey: [] }],
  request: { params: NameParams },
  responses: { 200: jsonResponse(Deleted, "Gone.", { deleted: 1, usage: NO_COLLECTION_UNITS }, v1Headers()) },
});

/** `DELETE /v1/collections/{name}` (see `description`). */
export function registerV1CollectionsDelete(app: App): void {
  addRoute(
    app,
    deleteCollectionRoute,
    errorsOf(E.any, E.apiKey, E.database, E.query, ["collection_not_found"]),
    async (c) => {
      const { name } = validate(NameParams, c.req.param());
      if (!(await storesOf(c).collections.remove(c.get("apiKey").account, name)))
        throw new ApiError("collection_not_found", `no collection "${name}" in this account`);
      purgeDeletedCollections(c);
      return c.json({ deleted: 1, usage: NO_COLLECTION_UNITS }, 200); // not recorded, as for PUT
    },
  );
}
