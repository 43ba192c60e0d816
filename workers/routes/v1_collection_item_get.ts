import { createRoute, z } from "@hono/zod-openapi";
import { ItemId, NO_COLLECTION_UNITS, StoredItem } from "../../src/api/collections.ts";
import type { App } from "../context.ts";
import { ApiError } from "../errors.ts";
import { ROUTE_ERRORS as E, errorsOf } from "../openapi/problems.ts";
import { addRoute, jsonResponse, v1Headers } from "../openapi/route.ts";
import { validate } from "../request/read-body.ts";
import { collectionOf, storesOf } from "../services/collections/request-stores.ts";
import { NameParams } from "./v1_collections_put.ts";

export const ItemParams = NameParams.extend({ id: ItemId.meta({ param: { name: "id", in: "path" } }) });
const ItemQuery = z.strictObject({
  include: z.enum(["embedding"]).optional().meta({ description: "`embedding` adds the stored vector." }),
});

export const getItemRoute = createRoute({
  method: "get",
  path: "/v1/collections/{name}/items/{id}",
  operationId: "getItem",
  tags: ["Collections"],
  summary: "One item",
  description: "An item's metadata and timestamps; `?include=embedding` adds its stored (unit) vector.",
  security: [{ ApiKey: [] }],
  request: { params: ItemParams, query: ItemQuery },
  responses: {
    200: jsonResponse(
      StoredItem,
      "The item.",
      {
        object: "item",
        id: "red-circle.png",
        metadata: { colour: "red" },
        created: "2026-12-01T09:00:00.000Z",
        updated: "2026-12-01T09:00:00.000Z",
        usage: NO_COLLECTION_UNITS,
      },
      v1Headers(),
    ),
  },
});

/** `GET /v1/collections/{name}/items/{id}` (see `description`). */
export function registerV1CollectionItemGet(app: App): void {
  const errors = errorsOf(E.any, E.apiKey, E.database, E.query, [
    "collection_not_found",
    "item_not_found",
    "model_mismatch",
  ]);
  addRoute(app, getItemRoute, errors, async (c) => {
    const { name, id } = validate(ItemParams, c.req.param());
    const { include } = validate(ItemQuery, c.req.query());
    const item = await storesOf(c)
      .items(await collectionOf(c, name))
      .get(id, include === "embedding");
    if (!item) throw new ApiError("item_not_found", `no item "${id}" in collection "${name}"`);
    return c.json({ object: "item" as const, ...item, usage: NO_COLLECTION_UNITS }, 200);
  });
}
