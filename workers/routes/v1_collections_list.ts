import { createRoute, z } from "@hono/zod-openapi";
import {
  COLLECTION_LIMITS,
  CollectionList,
  CollectionName,
  NO_COLLECTION_UNITS,
} from "../../src/api/collections.ts";
import type { App } from "../context.ts";
import { ApiError } from "../errors.ts";
import { ROUTE_ERRORS as E, errorsOf } from "../openapi/problems.ts";
import { addRoute, jsonResponse, v1Headers } from "../openapi/route.ts";
import { validate } from "../request/read-body.ts";
import { storesOf } from "../services/collections/request-stores.ts";
import {
  COLLECTION_EXAMPLE,
  collectionView,
  decodeCursor,
  encodeCursor,
} from "../services/collections/views.ts";

export const PageQuery = z.strictObject({
  cursor: z.string().max(1024).optional().meta({ description: "`next_cursor` of the previous page." }),
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(COLLECTION_LIMITS.maxPageSize)
    .optional()
    .meta({ description: `Page size; default ${COLLECTION_LIMITS.defaultPageSize}.` }),
});

/** The page's cursor — a name or an id, as `of` accepts — or a 400 for one this API did not return. */
export function cursorOf(query: z.infer<typeof PageQuery>, of: z.ZodType<string>): string | undefined {
  if (query.cursor === undefined) return undefined;
  const after = decodeCursor(query.cursor, (last) => of.safeParse(last).success);
  if (after === undefined)
    throw new ApiError("invalid_request", "cursor is not one this API returned", {
      errors: [{ pointer: "/cursor", detail: "unknown cursor" }],
    });
  return after;
}

export const listCollectionsRoute = createRoute({
  method: "get",
  path: "/v1/collections",
  operationId: "listCollections",
  tags: ["Collections"],
  summary: "List collections",
  description: "The calling key's account's collections, by name, a page at a time (`next_cursor`).",
  security: [{ ApiKey: [] }],
  request: { query: PageQuery },
  responses: {
    200: jsonResponse(
      CollectionList,
      "A page of collections.",
      { object: "list", data: [COLLECTION_EXAMPLE], next_cursor: null, usage: NO_COLLECTION_UNITS },
      v1Headers(),
    ),
  },
});

/** `GET /v1/collections` (see `description`). */
export function registerV1CollectionsList(app: App): void {
  addRoute(app, listCollectionsRoute, errorsOf(E.any, E.apiKey, E.database, E.query), async (c) => {
    const query = validate(PageQuery, c.req.query());
    const limit = query.limit ?? COLLECTION_LIMITS.defaultPageSize;
    const rows = await storesOf(c).collections.list(
      c.get("apiKey").account,
      cursorOf(query, CollectionName),
      limit,
    );
    const last = rows.at(-1);
    return c.json(
      {
        object: "list" as const,
        data: rows.map(collectionView),
        next_cursor: last && rows.length === limit ? encodeCursor(last.name) : null,
        usage: NO_COLLECTION_UNITS,
      },
      200,
    );
  });
}
