import { createRoute, z } from "@hono/zod-openapi";
import { LABEL_SET_LIMITS, LabelSetId, LabelSetList } from "../../src/api/label-sets.ts";
import type { App } from "../context.ts";
import { ApiError } from "../errors.ts";
import { NO_USAGE } from "../middleware/metering/usage.ts";
import { ROUTE_ERRORS as E, errorsOf } from "../openapi/problems.ts";
import { addRoute, jsonResponse, v1Headers } from "../openapi/route.ts";
import { validate } from "../request/read-body.ts";
import { LABEL_SET_EXAMPLE, statusOf } from "../services/label-sets/views.ts";

const ListQuery = z.strictObject({
  cursor: z.string().max(64).optional().meta({ description: "`next_cursor` of the previous page." }),
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(LABEL_SET_LIMITS.maxPageSize)
    .optional()
    .meta({ description: `Page size; default ${LABEL_SET_LIMITS.defaultPageSize}.` }),
});

export const listLabelSetsRoute = createRoute({
  method: "get",
  path: "/v1/label-sets",
  operationId: "listLabelSets",
  tags: ["Label sets"],
  summary: "List label sets",
  description:
    "The calling key's account's label sets by id, without their labels, a page at a time (`next_cursor`).",
  security: [{ ApiKey: [] }],
  request: { query: ListQuery },
  responses: {
    200: jsonResponse(
      LabelSetList,
      "A page of label sets.",
      {
        object: "list",
        data: [
          {
            object: "label_set",
            id: LABEL_SET_EXAMPLE.id,
            name: LABEL_SET_EXAMPLE.name,
            model: LABEL_SET_EXAMPLE.model,
            status: "ready",
            created: LABEL_SET_EXAMPLE.created,
            label_count: 3,
          },
        ],
        next_cursor: null,
        usage: NO_USAGE,
      },
      v1Headers(),
    ),
  },
});

/** `GET /v1/label-sets` (see `description`). */
export function registerV1LabelSetsList(app: App): void {
  addRoute(app, listLabelSetsRoute, errorsOf(E.any, E.apiKey, E.query), async (c) => {
    const query = validate(ListQuery, c.req.query());
    // The cursor is the last id of the previous page, as it is: ids are public and ordered.
    if (query.cursor !== undefined && !LabelSetId.safeParse(query.cursor).success)
      throw new ApiError("invalid_request", "cursor is not one this API returned", {
        errors: [{ pointer: "/cursor", detail: "unknown cursor" }],
      });
    const limit = query.limit ?? LABEL_SET_LIMITS.defaultPageSize;
    const rows = await c.get("services").labelSets.store.list(c.get("apiKey").account, query.cursor, limit);
    const last = rows.at(-1);
    return c.json(
      {
        object: "list" as const,
        data: rows.map((row) => ({
          object: "label_set" as const,
          id: row.id,
          name: row.name,
          model: row.model,
          ...statusOf(row),
          created: new Date(row.created).toISOString(),
          label_count: row.labelCount,
        })),
        next_cursor: last && rows.length === limit ? last.id : null,
        usage: NO_USAGE,
      },
      200,
    );
  });
}
