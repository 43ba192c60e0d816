import { createRoute } from "@hono/zod-openapi";
import { COLLECTION_LIMITS, ItemId, ItemList, NO_COLLECTION_UNITS } from "../../src/api/collections.ts";
import type { App } from "../context.ts";
import { ROUTE_ERRORS as E, errorsOf } from "../openapi/problems.ts";
import { addRoute, jsonResponse, v1Headers } from "../openapi/route.ts";
import { validate } from "../request/read-body.ts";
import { collectionOf, storesOf } from "../services/collections/request-stores.ts";
import { encodeCursor } from "../services/collections/views.ts";
import { cursorOf, PageQuery } from "./v1_collections_list.ts";
import { NameParams } from "./v1_collections_put.ts";

export const listItemsRoute = createRoute({
  method: "get",
  path: "/v1/collections/{name}/items",
  operationId: "listItems",
  tags: ["Collections"],
  summary: "List a collection's items",
  description: "The collection's items by id, with their metadata, a page at a time (`next_cursor`).",
  security: [{ ApiKey: [] }],
  request: { params: NameParams, query: PageQuery },
  responses: {
    200: jsonResponse(
      ItemList,
      "A page of items.",
      {
        object: "list",
        data: [
          {
            id: "red-circle.png",
            metadata: { colour: "red" },
            created: "2026-12-01T09:00:00.000Z",
            updated: "2026-12-01T09:00:00.000Z",
          },
        ],
        next_cursor: null,
        usage: NO_COLLECTION_UNITS,
      },
      v1Headers(),
    ),
  },
});

/** `GET /v1/collections/{name}/items` (see `description`). */
export function registerV1CollectionItemsList(app: App): void {
  const errors = errorsOf(E.any, E.apiKey, E.database, E.query, ["collection_not_found", "model_mismatch"]);
  addRoute(app, listItemsRoute, errors, async (c) => {
    const { name } = validate(NameParams, c.req.param());
    const query = validate(PageQuery, c.req.query());
    const limit = query.limit ?? COLLECTION_LIMITS.defaultPageSize;
    const collection = await collectionOf(c, name);
    const rows = await storesOf(c).items(collection).list(cursorOf(query, ItemId), limit);
    const last = rows.at(-1);
    return c.json(
      {
        object: "list" as const,
        data: rows,
        next_cursor: last && rows.length === limit ? encodeCursor(last.id) : null,
        usage: NO_COLLECTION_UNITS,
      },
      200,
    );
  });
}
