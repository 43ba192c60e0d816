import { createRoute } from "@hono/zod-openapi";
import { CollectionResponse, NO_COLLECTION_UNITS } from "../../src/api/collections.ts";
import type { App } from "../context.ts";
import { ROUTE_ERRORS as E, errorsOf } from "../openapi/problems.ts";
import { addRoute, jsonResponse, v1Headers } from "../openapi/route.ts";
import { validate } from "../request/read-body.ts";
import { collectionOf } from "../services/collections/request-stores.ts";
import { COLLECTION_EXAMPLE, collectionView } from "../services/collections/views.ts";
import { NameParams } from "./v1_collections_put.ts";

export const getCollectionRoute = createRoute({
  method: "get",
  path: "/v1/collections/{name}",
  operationId: "getCollection",
  tags: ["Collections"],
  summary: "One collection",
  description: "A collection of the calling key's account: its model, dimension and how many items it holds.",
  security: [{ ApiKey: [] }],
  request: { params: NameParams },
  responses: {
    200: jsonResponse(
      CollectionResponse,
      "The collection.",
      { ...COLLECTION_EXAMPLE, count: 240, usage: NO_COLLECTION_UNITS },
      v1Headers(),
    ),
  },
});

/** `GET /v1/collections/{name}` (see `description`). */
export function registerV1CollectionsGet(app: App): void {
  const errors = errorsOf(E.any, E.apiKey, E.database, E.query, ["collection_not_found", "model_mismatch"]);
  addRoute(app, getCollectionRoute, errors, async (c) => {
    const { name } = validate(NameParams, c.req.param());
    // A read: nothing billed, nothing recorded.
    return c.json({ ...collectionView(await collectionOf(c, name)), usage: NO_COLLECTION_UNITS }, 200);
  });
}
